//! `tagscape import-tags`: every tag table format on literal samples written
//! from FORMATS.md (b) and (c); expected tags are worked out by hand.

#[path = "support/cli.rs"]
mod cli;
use cli::{tagscape, tagscape_ok};

use std::path::{Path, PathBuf};

use tagscape::collect::add_inputs;
use tagscape::project::Project;
use tagscape::tagging::{ImportOptions, ImportReport, TagFormat, import_tags};

const A: &str = "https://pbs.twimg.com/media/D1tQxYzWwAAa1bC.jpg";
const DEAD: &str = "https://pbs.twimg.com/media/Dead000000000.jpg";
const SPACE: &str = "https://example.org/img/photo%20one.png";

struct Fixture {
    tmp: tempfile::TempDir,
    project: Project,
    /// A local image added from a folder; tag files name it by path.
    local: PathBuf,
}

/// A project holding A, DEAD, SPACE and one local file.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let mut project = Project::init(&tmp.path().join("study")).unwrap();
    let list = write(tmp.path(), "urls.txt", &format!("{A}\n{DEAD}\n{SPACE}\n"));
    let pics = tmp.path().join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    let local = pics.join("local.jpg");
    std::fs::write(&local, "x").unwrap();
    add_inputs(&mut project, &[list, pics], None).unwrap();
    Fixture {
        tmp,
        project,
        local,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(f: &mut Fixture, name: &str, text: &str, format: TagFormat) -> ImportReport {
    try_import(f, name, text, format, ImportOptions::default()).unwrap()
}

fn try_import(
    f: &mut Fixture,
    name: &str,
    text: &str,
    format: TagFormat,
    opts: ImportOptions,
) -> anyhow::Result<ImportReport> {
    let path = write(f.tmp.path(), name, text);
    import_tags(&mut f.project, &path, format, &opts)
}

type TagRow = (String, String, String, Option<f64>, String);

/// (image url, tag, tag_key, confidence, source), sorted.
fn tags(p: &Project) -> Vec<TagRow> {
    let mut stmt = p
        .conn()
        .prepare(
            "SELECT i.url, t.tag, t.tag_key, t.confidence, t.source
             FROM tags t JOIN images i ON i.id = t.image_id
             ORDER BY i.url, t.source, t.tag_key",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn row(url: &str, tag: &str, conf: Option<f64>, source: &str) -> TagRow {
    (
        url.to_string(),
        tag.to_string(),
        tag.to_lowercase(),
        conf,
        source.to_string(),
    )
}

fn error_of(result: anyhow::Result<ImportReport>) -> String {
    format!("{:#}", result.unwrap_err())
}

#[test]
fn dmi_tool_output_with_quoted_commas_and_no_elements_row() {
    let mut f = fixture();
    // BOM, a concept containing a comma (quoted by d3.csvFormat), a padded
    // concept, the "No elements present" row and a URL not in the project.
    let csv = "\u{feff}url,concept,confidence\n\
        https://pbs.twimg.com/media/D1tQxYzWwAAa1bC.jpg,people,0.9912\n\
        https://pbs.twimg.com/media/D1tQxYzWwAAa1bC.jpg,\"protest, march\",0.9734\n\
        https://pbs.twimg.com/media/D1tQxYzWwAAa1bC.jpg, Street ,0.9511\n\
        https://pbs.twimg.com/media/Dead000000000.jpg,No elements present,\n\
        https://example.org/img/photo%20one.png,sky,0.5\n\
        https://elsewhere.example/not-added.jpg,cat,0.4\n";
    let report = import(&mut f, "urls_concepts_general.csv", csv, TagFormat::Auto);
    let expected = vec![
        row(
            A,
            "people",
            Some(0.9912),
            "import:dmi:urls_concepts_general.csv",
        ),
        row(
            A,
            "protest, march",
            Some(0.9734),
            "import:dmi:urls_concepts_general.csv",
        ),
        row(
            A,
            "Street",
            Some(0.9511),
            "import:dmi:urls_concepts_general.csv",
        ),
        row(
            SPACE,
            "sky",
            Some(0.5),
            "import:dmi:urls_concepts_general.csv",
        ),
    ];
    let mut expected = expected;
    expected.sort_by(|a, b| (&a.0, &a.4, &a.2).cmp(&(&b.0, &b.4, &b.2)));
    assert_eq!(tags(&f.project), expected);
    assert_eq!(report.format, "dmi");
    assert_eq!(
        (
            report.tags,
            report.images_tagged,
            report.images_without_tags
        ),
        (4, 2, 1)
    );
    assert_eq!((report.unmatched_rows, report.unmatched_images), (1, 1));
    let line = report.to_string();
    assert!(
        line.starts_with("imported 4 tags for 2 images from ")
            && line.contains("(dmi); 1 image had no tags; 1 row for 1 image not in the project"),
        "{line}"
    );
    assert!(line.contains("not-added.jpg"), "{line}");
    let unmatched = std::fs::read_to_string(report.unmatched_file.as_ref().unwrap()).unwrap();
    assert_eq!(
        unmatched,
        "line,image,tag,confidence,source,reason\n7,https://elsewhere.example/not-added.jpg,cat,0.4,import:dmi:urls_concepts_general.csv,not in the project\n"
    );
    assert_eq!(
        report.unmatched_file.unwrap(),
        f.project
            .dir()
            .join("unmatched-tags-urls_concepts_general.csv")
    );

    // Importing it again changes nothing: the same source's tags are replaced.
    let again = import(&mut f, "urls_concepts_general.csv", csv, TagFormat::Dmi);
    assert_eq!(tags(&f.project), expected);
    assert_eq!(again.replaced, 4);
}

#[test]
fn memespector_gui_lists_become_one_source_per_api() {
    let mut f = fixture();
    let local = f.local.to_str().unwrap().to_string();
    let csv = format!(
        "Image_Location,Image_From,Image_BaseName,GV_Success,GV_Label_Descriptions,GV_Label_Ids,GV_Label_Scores,CL_Success,CL_Concepts,CL_Concept_Ids,CL_Concept_Scores,CL_Model,CL_Error\n\
         {A},Uri,D1tQxYzWwAAa1bC.jpg,True,Crowd; Protest; Street,/m/03qtwd; /m/01tt43; /m/01c8br,0.93; 0.88; 0.80,True,people; protest,ai_l8TKp2h5; ai_8Bz4kZ2k,0.991; 0.973,General,\n\
         {local},Local,local.jpg,False,,,,True,,,,General,\n"
    );
    let report = import(&mut f, "cv-apis-20240101_120000.csv", &csv, TagFormat::Auto);
    assert_eq!(report.format, "memespector");
    assert_eq!(
        report.sources,
        [
            "memespector:CL:cv-apis-20240101_120000.csv",
            "memespector:GV:cv-apis-20240101_120000.csv"
        ]
    );
    let mut expected = vec![
        row(
            A,
            "Crowd",
            Some(0.93),
            "memespector:GV:cv-apis-20240101_120000.csv",
        ),
        row(
            A,
            "Protest",
            Some(0.88),
            "memespector:GV:cv-apis-20240101_120000.csv",
        ),
        row(
            A,
            "Street",
            Some(0.80),
            "memespector:GV:cv-apis-20240101_120000.csv",
        ),
        row(
            A,
            "people",
            Some(0.991),
            "memespector:CL:cv-apis-20240101_120000.csv",
        ),
        row(
            A,
            "protest",
            Some(0.973),
            "memespector:CL:cv-apis-20240101_120000.csv",
        ),
    ];
    expected.sort_by(|a, b| (&a.0, &a.4, &a.2).cmp(&(&b.0, &b.4, &b.2)));
    assert_eq!(tags(&f.project), expected);
    // The local row: GV failed (skipped), CL answered with no concepts.
    assert_eq!(report.failed_calls, 1);
    assert_eq!(report.images_without_tags, 1);
    assert_eq!(report.unmatched_rows, 0);
    assert!(report.unmatched_file.is_none());
}

#[test]
fn memespector_python_gv_labels_with_scores() {
    let mut f = fixture();
    let csv = format!(
        "image_url,likes,original_filename,image_id,file_ext,gv_labels\n\
         {A},3,D1tQxYzWwAAa1bC.jpg,0a1b2c,.jpg,Crowd (0.93);Protest (0.88)\n\
         {SPACE},1,photo one.png,3d4e5f,.png,\n"
    );
    let report = import(&mut f, "annotated_urls.csv", &csv, TagFormat::Memespector);
    assert_eq!(report.format, "memespector-python");
    assert_eq!(
        tags(&f.project),
        vec![
            row(
                A,
                "Crowd",
                Some(0.93),
                "memespector:gv_labels:annotated_urls.csv"
            ),
            row(
                A,
                "Protest",
                Some(0.88),
                "memespector:gv_labels:annotated_urls.csv"
            ),
        ]
    );
    assert_eq!(report.images_without_tags, 1);
}

#[test]
fn gephi_edges_import_as_a_long_table_matched_by_file_name() {
    let mut f = fixture();
    // The recipe's edges sheet, with image ids cut down to the file name
    // (as `wget -i` names downloads) and a percentage confidence.
    let csv = "Source,Target,Weight,Type\n\
               D1tQxYzWwAAa1bC.jpg,protest,0.9734,Undirected\n\
               D1tQxYzWwAAa1bC.jpg,Protest,93%,Undirected\n\
               photo one.png,sky,,Undirected\n\
               local.jpg,cat,1,Undirected\n";
    let report = import(&mut f, "edges.csv", csv, TagFormat::Auto);
    assert_eq!(report.format, "long");
    let local_url = url::Url::from_file_path(std::path::absolute(&f.local).unwrap())
        .unwrap()
        .to_string();
    let mut expected = vec![
        // Same tag twice for one image (case-insensitively): the higher confidence stays.
        row(A, "protest", Some(0.9734), "import:long:edges.csv"),
        row(SPACE, "sky", None, "import:long:edges.csv"),
        row(&local_url, "cat", Some(1.0), "import:long:edges.csv"),
    ];
    expected.sort_by(|a, b| (&a.0, &a.4, &a.2).cmp(&(&b.0, &b.4, &b.2)));
    assert_eq!(tags(&f.project), expected);
    assert_eq!(report.tags, 3);
}

#[test]
fn wide_tables_detect_or_take_the_separator() {
    let mut f = fixture();
    let csv = format!("image,tags\n{A},\"crowd; flag ;sign\"\n{DEAD},\n");
    let report = import(&mut f, "wide.csv", &csv, TagFormat::Auto);
    assert_eq!(report.format, "wide");
    assert_eq!(
        tags(&f.project),
        vec![
            row(A, "crowd", None, "import:wide:wide.csv"),
            row(A, "flag", None, "import:wide:wide.csv"),
            row(A, "sign", None, "import:wide:wide.csv"),
        ]
    );
    assert_eq!(report.images_without_tags, 1);

    // Comma-joined with aligned confidences, under another source name.
    let csv = format!("url,labels,scores\n{A},\"crowd,flag\",\"0.9,0.8\"\n");
    let opts = ImportOptions {
        separator: None,
        source: Some("coder-1".into()),
        ..ImportOptions::default()
    };
    try_import(&mut f, "wide2.csv", &csv, TagFormat::Wide, opts).unwrap();
    let mine: Vec<TagRow> = tags(&f.project)
        .into_iter()
        .filter(|t| t.4 == "coder-1")
        .collect();
    assert_eq!(
        mine,
        vec![
            row(A, "crowd", Some(0.9), "coder-1"),
            row(A, "flag", Some(0.8), "coder-1"),
        ]
    );

    // An explicit separator that appears nowhere else.
    let csv = format!("image\ttags\n{SPACE}\tred, white|blue\n");
    let opts = ImportOptions {
        separator: Some("|".into()),
        source: Some("pipes".into()),
        ..ImportOptions::default()
    };
    try_import(&mut f, "wide3.tsv", &csv, TagFormat::Auto, opts).unwrap();
    let pipes: Vec<String> = tags(&f.project)
        .into_iter()
        .filter(|t| t.4 == "pipes")
        .map(|t| t.1)
        .collect();
    assert_eq!(pipes, ["blue", "red, white"]);
}

#[test]
fn ambiguous_file_names_are_not_guessed() {
    let mut f = fixture();
    let list = write(
        f.tmp.path(),
        "more.txt",
        "https://a.example/x/same.jpg\nhttps://b.example/y/same.jpg\n",
    );
    add_inputs(&mut f.project, &[list], None).unwrap();
    let report = import(
        &mut f,
        "long.csv",
        "image,tag\nsame.jpg,dog\nhttps://b.example/y/same.jpg,cat\n",
        TagFormat::Long,
    );
    assert_eq!(report.tags, 1);
    assert_eq!((report.unmatched_rows, report.ambiguous_rows), (0, 1));
    assert_eq!(report.ambiguous_examples, ["same.jpg"]);
}

#[test]
fn malformed_rows_name_the_file_and_line() {
    let mut f = fixture();
    let cases: [(&str, String, &str); 6] = [
        (
            "unquoted.csv",
            format!("url,concept,confidence\n{A},people,0.9\n{A},protest, march,0.8\n"),
            "unquoted.csv line 3: 4 fields where the header has 3",
        ),
        (
            "high.csv",
            format!("url,concept,confidence\n{A},people,0.9\n{A},sky,1.7\n"),
            "high.csv line 3: confidence `1.7` is outside 0–1",
        ),
        (
            "nan.csv",
            format!("image,tag,score\n{A},people,NaN\n"),
            "nan.csv line 2: confidence `NaN` is outside 0–1",
        ),
        (
            "text.csv",
            format!("image,tag,score\n\n{A},people,high\n"),
            "text.csv line 3: confidence `high` is not a number",
        ),
        (
            "lists.csv",
            format!(
                "Image_Location,GV_Label_Descriptions,GV_Label_Scores\n{A},Crowd; Protest,0.9\n"
            ),
            "lists.csv line 2: 2 labels but 1 scores in the GV columns",
        ),
        (
            "what.csv",
            "photo,comment\nx.jpg,nice\n".to_string(),
            "columns seen: `photo`, `comment`",
        ),
    ];
    for (name, text, expected) in cases {
        let msg = error_of(try_import(
            &mut f,
            name,
            &text,
            TagFormat::Auto,
            ImportOptions::default(),
        ));
        assert!(msg.contains(expected), "{name}: {msg}");
    }
    // A failed import wrote nothing.
    assert!(tags(&f.project).is_empty());
}

#[test]
fn cli_import_prints_the_summary_and_fails_cleanly() {
    let f = fixture();
    let dir = f.project.dir().to_path_buf();
    drop(f.project); // release the project lock for the child process
    let good = write(
        f.tmp.path(),
        "tags.csv",
        &format!("url,concept,confidence\n{A},people,0.99\n"),
    );
    let d = dir.to_str().unwrap();
    let stdout = tagscape_ok(&["import-tags", d, good.to_str().unwrap()]);
    assert!(
        stdout.contains("imported 1 tag for 1 image from"),
        "{stdout}"
    );

    let bad = write(
        f.tmp.path(),
        "bad.csv",
        &format!("url,concept,confidence\n{A},people,-0.2\n"),
    );
    let out = tagscape(&["import-tags", d, bad.to_str().unwrap(), "--format", "dmi"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.csv line 2"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_project_without_images_says_to_add_them_first() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = Project::init(&tmp.path().join("empty")).unwrap();
    let file = write(tmp.path(), "t.csv", &format!("image,tag\n{A},x\n"));
    let err = import_tags(&mut p, &file, TagFormat::Auto, &ImportOptions::default()).unwrap_err();
    assert!(format!("{err:#}").contains("tagscape add"), "{err:#}");
}

/// A DMI file whose rows for one image are spread over several batches:
/// duplicates keep the first spelling and the highest confidence, and an
/// image's earlier tags from this file are replaced once, not per batch.
fn spread_rows(unknown: &str) -> String {
    format!(
        "url,concept,confidence\n{A},People,0.5\n{SPACE},sky,0.7\n{A},people,0.9\n{unknown},cat,0.3\n{A},crowd,\n{SPACE},sky,0.4\n{A},crowd,0.6\n"
    )
}

#[test]
fn streaming_in_small_batches_stores_what_one_batch_does() {
    let unknown = "https://unknown.example/x.jpg";
    let source = "import:dmi:spread.csv";
    let expected = vec![
        row(SPACE, "sky", Some(0.7), source),
        row(A, "crowd", Some(0.6), source),
        // The first spelling, the highest confidence.
        row(A, "People", Some(0.9), source),
    ];
    for batch_rows in [1, 2, 3, 0] {
        let mut f = fixture();
        // An earlier import of the file gave A another tag: replaced.
        import(
            &mut f,
            "spread.csv",
            &format!("url,concept,confidence\n{A},old,0.1\n"),
            TagFormat::Auto,
        );
        let opts = ImportOptions {
            batch_rows,
            ..ImportOptions::default()
        };
        let report = try_import(
            &mut f,
            "spread.csv",
            &spread_rows(unknown),
            TagFormat::Auto,
            opts,
        )
        .unwrap();
        assert_eq!(tags(&f.project), expected, "batches of {batch_rows}");
        assert_eq!(
            (report.tags, report.images_tagged, report.replaced),
            (3, 2, 1),
            "batches of {batch_rows}"
        );
        assert_eq!((report.unmatched_rows, report.unmatched_images), (1, 1));
        assert_eq!(report.sources, [source]);
        let listed = std::fs::read_to_string(report.unmatched_file.unwrap()).unwrap();
        assert!(listed.contains(&format!("5,{unknown},cat,0.3")), "{listed}");
    }
}

#[test]
fn a_bad_row_after_the_first_batch_adds_nothing() {
    let mut f = fixture();
    import(
        &mut f,
        "spread.csv",
        &format!("url,concept,confidence\n{A},old,0.1\n"),
        TagFormat::Auto,
    );
    let before = tags(&f.project);
    // Line 9, four batches of two rows in: a confidence above 1.
    let text = format!(
        "{}{A},sky,1.7\n",
        spread_rows("https://unknown.example/x.jpg")
    );
    let opts = ImportOptions {
        batch_rows: 2,
        ..ImportOptions::default()
    };
    let msg = error_of(try_import(
        &mut f,
        "spread.csv",
        &text,
        TagFormat::Auto,
        opts,
    ));
    assert!(
        msg.contains("spread.csv line 9: confidence `1.7` is outside 0–1"),
        "{msg}"
    );
    // The earlier import's tag is still there and nothing else was added;
    // no list of unmatched rows was left either.
    assert_eq!(tags(&f.project), before);
    assert!(!f.project.dir().join("unmatched-tags-spread.csv").exists());
}

#[test]
fn posts_without_an_image_are_counted() {
    let mut f = fixture();
    let csv = format!("id,media_urls,hashtags\n1,{A},protest;march\n2,,nomedia\n3,,\n");
    let opts = ImportOptions {
        image_column: Some("media_urls".into()),
        tags_column: Some("hashtags".into()),
        ..ImportOptions::default()
    };
    let report = try_import(&mut f, "posts.csv", &csv, TagFormat::Auto, opts).unwrap();
    assert_eq!((report.tags, report.posts_without_image), (2, 2));
    assert!(
        report
            .to_string()
            .contains("; 2 posts without an image skipped"),
        "{report}"
    );
}
