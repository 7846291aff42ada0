//! The Gephi CSVs as Gephi 0.10 reads them: each rule of the export checked
//! through `support/gephi.rs`, a model of Gephi's own spreadsheet import
//! (Commons CSV with `\` as escape character, trimming, column types guessed
//! from the first 25 rows, the edges' `Type` column). The project is built
//! as a user would (`add`, `import-tags`, `graph`), with tags that hold
//! backslashes, a formula, `NA`/`null`, emoji, right-to-left and CJK text,
//! and a layout whose first 25 sizes are whole numbers.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/gephi.rs"]
mod gephi;

use cli::tagscape_ok;
use gephi::{ColumnType, Mode};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tagscape::graph::Graph;
use tagscape::layout::{Placement, save_positions};
use tagscape::project::Project;

const TRAILING_BACKSLASH: &str = r"ends\";
const WINDOWS_PATH: &str = r"C:\new\tab";
const QUOTED_BACKSLASH: &str = r#"say \"hi\""#;
const FORMULA: &str = "=SUM(A1)";
/// The other characters that start a formula in Excel and LibreOffice.
const FORMULA_STARTS: [&str; 3] = ["+1+1", "-cmd", "@SUM(A1)"];
const NA: &str = "NA";
const NULL: &str = "null";
/// A zero-width-joiner sequence (black cat) before plain text.
const EMOJI: &str = "🐈\u{200D}⬛ black cat";
const HEBREW: &str = "\u{200F}שלום עולם";
const ARABIC: &str = "قطة سوداء";
const CJK: &str = "東京タワー 夜景";

/// Every special tag, each on some of the images.
fn special_tags() -> Vec<&'static str> {
    let mut tags = vec![
        TRAILING_BACKSLASH,
        WINDOWS_PATH,
        QUOTED_BACKSLASH,
        FORMULA,
        NA,
        NULL,
        EMOJI,
        HEBREW,
        ARABIC,
        CJK,
    ];
    tags.extend(FORMULA_STARTS);
    tags
}

const IMAGES: usize = 30;

fn url(i: usize) -> String {
    format!("https://example.org/media/photo-{i:02}.jpg")
}

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    out: PathBuf,
    /// (image URL, tag, confidence) as imported.
    pairs: Vec<(String, String, f64)>,
}

impl Fixture {
    fn dir(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// `tagscape export DIR --format gephi-csv --out OUT/NAME EXTRA…`: the
    /// summary line and the folder.
    fn export(&self, name: &str, extra: &[&str]) -> (String, PathBuf) {
        let folder = self.out.join(name);
        let mut args = vec![
            "export",
            self.dir(),
            "--format",
            "gephi-csv",
            "--out",
            folder.to_str().unwrap(),
        ];
        args.extend(extra);
        (tagscape_ok(&args), folder)
    }
}

/// 30 images; image i carries a plain tag and, for i < 13, one special tag;
/// weights 1 (whole) first, fractions later. A layout whose first 25 nodes
/// have whole-number x, y and size, and fractional ones after.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let urls: Vec<String> = (0..IMAGES).map(url).collect();
    let list = tmp.path().join("urls.txt");
    std::fs::write(&list, urls.join("\n") + "\n").unwrap();

    let mut pairs = Vec::new();
    for (i, u) in urls.iter().enumerate() {
        let confidence = if i < 20 { 1.0 } else { 0.75 };
        pairs.push((u.clone(), format!("plain {}", i % 4), confidence));
        if let Some(tag) = special_tags().get(i) {
            pairs.push((u.clone(), tag.to_string(), 0.5));
        }
    }
    // Two images share the trailing-backslash tag, so it links them.
    pairs.push((urls[29].clone(), TRAILING_BACKSLASH.to_string(), 0.25));
    let mut table = csv::Writer::from_path(tmp.path().join("tags.csv")).unwrap();
    table.write_record(["image", "tag", "confidence"]).unwrap();
    for (u, t, c) in &pairs {
        table.write_record([u, t, &c.to_string()]).unwrap();
    }
    table.flush().unwrap();
    drop(table);

    let d = dir.to_str().unwrap();
    tagscape_ok(&["init", d]);
    tagscape_ok(&["add", d, list.to_str().unwrap()]);
    tagscape_ok(&[
        "import-tags",
        d,
        tmp.path().join("tags.csv").to_str().unwrap(),
        "--format",
        "long",
    ]);
    tagscape_ok(&["graph", d]);

    let mut project = Project::open(&dir, tagscape::project::Access::Write).unwrap();
    let graph = Graph::load(&project).unwrap();
    assert!(graph.node_count() > 25 + 5, "rows past the first 25");
    let placements: Vec<Placement> = (0..graph.node_count())
        .map(|i| {
            if i < 25 {
                Placement {
                    x: i as f32 * 10.0 - 100.0,
                    y: 50.0 - i as f32,
                    size: 10.0,
                }
            } else {
                Placement {
                    x: i as f32 * 1.5,
                    y: -0.25 * i as f32,
                    size: 22.3,
                }
            }
        })
        .collect();
    save_positions(&mut project, &graph, &placements).unwrap();
    Fixture {
        _tmp: tmp,
        dir,
        out,
        pairs,
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn import(path: &Path, mode: Mode) -> gephi::Import {
    gephi::import(&read(path), mode)
        .unwrap_or_else(|e| panic!("Gephi's parser fails on {}: {e:?}", path.display()))
}

/// The id a tag has in every export: itself (none of these is an image URL).
fn expected_edges(fx: &Fixture) -> BTreeSet<(String, String)> {
    fx.pairs
        .iter()
        .map(|(u, t, _)| (u.clone(), t.clone()))
        .collect()
}

#[test]
fn backslashes_reach_gephi_as_written_and_rows_are_kept() {
    let fx = fixture();
    let (_, folder) = fx.export("gephi", &[]);

    let edges = import(&folder.join("edges.csv"), Mode::Edges);
    assert_eq!(edges.refused_rows, Vec::<usize>::new(), "rows Gephi drops");
    assert_eq!(edges.refused_values, vec![], "values Gephi refuses");
    let got: BTreeSet<(String, String)> = gephi::edges(&edges)
        .into_iter()
        .map(|e| (e.source, e.target))
        .collect();
    assert_eq!(got, expected_edges(&fx), "every edge, endpoints intact");

    let nodes = import(&folder.join("nodes.csv"), Mode::Nodes);
    assert_eq!(nodes.refused_rows, Vec::<usize>::new(), "rows Gephi drops");
    assert_eq!(nodes.refused_values, vec![], "values Gephi refuses");
    for tag in [TRAILING_BACKSLASH, WINDOWS_PATH, QUOTED_BACKSLASH] {
        let row = nodes
            .rows
            .iter()
            .find(|r| r["Id"] == tag)
            .unwrap_or_else(|| panic!("no node {tag:?} in Gephi"));
        assert_eq!(row["Label"], tag);
        assert_eq!(row["Type"], "tag");
    }
}

#[test]
fn float_columns_stay_double_though_the_first_25_rows_are_whole() {
    let fx = fixture();
    let (_, folder) = fx.export("gephi", &[]);
    let nodes = import(&folder.join("nodes.csv"), Mode::Nodes);
    for column in ["x", "y", "size"] {
        assert_eq!(nodes.types[column], ColumnType::Double, "{column}");
    }
    assert_eq!(nodes.types["frequency"], ColumnType::Integer);
    assert_eq!(nodes.types["degree"], ColumnType::Integer);
    assert_eq!(nodes.refused_values, vec![]);
    // The later, fractional sizes arrive.
    let sizes: BTreeSet<String> = nodes.rows.iter().map(|r| r["size"].clone()).collect();
    assert_eq!(sizes, BTreeSet::from(["10.0".into(), "22.3".into()]));
    let nodes_text = read(&folder.join("nodes.csv"));
    let first_row = nodes_text.lines().nth(1).unwrap();
    // x, y, size, then the post counts.
    assert!(first_row.contains(",-100.0,50.0,10.0,"), "{first_row}");

    let edges = import(&folder.join("edges.csv"), Mode::Edges);
    assert_eq!(edges.types["Weight"], ColumnType::Double);
    let weights: BTreeSet<String> = gephi::edges(&edges)
        .iter()
        .map(|e| e.weight.unwrap().to_string())
        .collect();
    assert_eq!(
        weights,
        BTreeSet::from(["1".into(), "0.75".into(), "0.5".into(), "0.25".into()])
    );
    let edges_text = read(&folder.join("edges.csv"));
    assert!(
        edges_text.lines().any(|l| l.ends_with(",1.0,Undirected")),
        "{edges_text}"
    );
}

#[test]
fn every_edge_is_undirected_in_gephi_as_in_the_gexf() {
    let fx = fixture();
    let (_, folder) = fx.export("gephi", &[]);
    let edges_csv = folder.join("edges.csv");
    assert_eq!(
        read(&edges_csv).lines().next().unwrap(),
        "Source,Target,Weight,Type"
    );
    let edges = gephi::edges(&import(&edges_csv, Mode::Edges));
    assert_eq!(edges.len(), fx.pairs.len());
    assert!(edges.iter().all(|e| !e.directed), "{edges:?}");

    let gexf = fx.out.join("study.gexf");
    tagscape_ok(&[
        "export",
        fx.dir(),
        "--format",
        "gexf",
        "--out",
        gexf.to_str().unwrap(),
    ]);
    assert!(read(&gexf).contains(r#"defaultedgetype="undirected""#));
}

#[test]
fn summary_says_gephi_takes_the_layout_from_the_gexf() {
    let fx = fixture();
    let (summary, _) = fx.export("gephi", &[]);
    assert!(
        summary.contains(
            "Gephi's spreadsheet import ignores x, y and size: use --format gexf for the layout"
        ),
        "{summary}"
    );
    let readme = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"));
    assert!(
        readme.contains("ignores x, y and size"),
        "README says the CSV route carries no positions into Gephi"
    );
}

#[test]
fn formulas_are_kept_for_gephi_and_escaped_on_request_in_both_files() {
    let fx = fixture();
    // Default: the cells are Gephi ids, the same as the GEXF's.
    let (_, folder) = fx.export("kept", &[]);
    let nodes = import(&folder.join("nodes.csv"), Mode::Nodes);
    let ids: BTreeSet<String> = nodes.rows.iter().map(|r| r["Id"].clone()).collect();
    assert!(ids.contains(FORMULA));

    let (_, folder) = fx.export("escaped", &["--formulas", "escape"]);
    let nodes = import(&folder.join("nodes.csv"), Mode::Nodes);
    let ids: BTreeSet<String> = nodes.rows.iter().map(|r| r["Id"].clone()).collect();
    let mut formulas = vec![FORMULA];
    formulas.extend(FORMULA_STARTS);
    for tag in &formulas {
        assert!(ids.contains(&format!("'{tag}")), "{tag} escaped: {ids:?}");
        assert!(!ids.contains(*tag), "{tag} left runnable");
        let row = nodes
            .rows
            .iter()
            .find(|r| r["Id"] == format!("'{tag}"))
            .unwrap();
        assert_eq!(row["Label"], format!("'{tag}"));
    }
    // No cell of either file starts a formula; numbers are still numbers.
    for file in ["nodes.csv", "edges.csv"] {
        let sheet = gephi::parse(&read(&folder.join(file))).unwrap();
        for record in &sheet.records {
            for value in record.iter().flatten() {
                let numeric = value.parse::<f64>().is_ok();
                assert!(
                    numeric || !value.starts_with(['=', '+', '-', '@']),
                    "{file}: {value:?}"
                );
            }
        }
    }
    assert_eq!(nodes.types["x"], ColumnType::Double);
    // Edges still meet their nodes: the ids changed alike in both files.
    let edges = gephi::edges(&import(&folder.join("edges.csv"), Mode::Edges));
    assert_eq!(edges.len(), fx.pairs.len());
    for e in &edges {
        assert!(ids.contains(&e.source) && ids.contains(&e.target), "{e:?}");
    }
}

#[test]
fn excel_starts_each_file_with_a_bom_that_gephi_skips() {
    let fx = fixture();
    let (_, plain) = fx.export("plain", &[]);
    let (_, excel) = fx.export("excel", &["--excel"]);
    for file in ["nodes.csv", "edges.csv"] {
        let with = std::fs::read(excel.join(file)).unwrap();
        let without = std::fs::read(plain.join(file)).unwrap();
        assert!(!without.starts_with(b"\xEF\xBB\xBF"), "{file}");
        assert_eq!(&with[..3], b"\xEF\xBB\xBF", "{file}");
        assert_eq!(&with[3..], &without[..], "{file}: only the BOM differs");
    }
    let edges = gephi::edges(&import(&excel.join("edges.csv"), Mode::Edges));
    assert_eq!(
        edges.len(),
        fx.pairs.len(),
        "the header is found after the BOM"
    );
}

#[test]
fn text_in_any_script_and_null_like_words_arrive_as_written() {
    let fx = fixture();
    let (_, folder) = fx.export("gephi", &[]);
    let nodes = import(&folder.join("nodes.csv"), Mode::Nodes);
    let by_id: BTreeMap<String, &BTreeMap<String, String>> =
        nodes.rows.iter().map(|r| (r["Id"].clone(), r)).collect();
    assert_eq!(by_id.len(), nodes.rows.len(), "ids unique");
    for tag in [NA, NULL, EMOJI, HEBREW, ARABIC, CJK] {
        let row = by_id
            .get(tag)
            .unwrap_or_else(|| panic!("{tag:?} missing: {:?}", by_id.keys()));
        assert_eq!(row["Label"], tag);
    }
    // Every image and tag is a node once, and every edge endpoint is one.
    let images: BTreeSet<String> = (0..IMAGES).map(url).collect();
    let tags: BTreeSet<String> = fx.pairs.iter().map(|(_, t, _)| t.clone()).collect();
    let expected: BTreeSet<String> = images.union(&tags).cloned().collect();
    assert_eq!(by_id.keys().cloned().collect::<BTreeSet<_>>(), expected);
}
