//! `tagscape tag DIR --with BACKEND`: tag the project's images with a
//! computer-vision backend.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};

use super::{Outcome, ranges};
use crate::project::{Access, Project};
use crate::tagging::keys::{self, ApiKey};
use crate::tagging::send::SendMode;
use crate::tagging::tagger::{self, Plan, RunOptions, Tagger, TaggerInfo};
use crate::tagging::{clarifai, google, openai, pricing};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Clarifai's predict API (key: CLARIFAI_PAT).
    Clarifai,
    /// Google Cloud Vision (key: GOOGLE_API_KEY, or GOOGLE_ACCESS_TOKEN from `gcloud auth print-access-token`).
    Google,
    /// An OpenAI-compatible vision model: Ollama, vLLM, LM Studio (key: OPENAI_API_KEY, optional).
    Openai,
    /// A local CLIP model, zero-shot over a vocabulary (weights: --weights DIR, see `tagscape models`).
    Clip,
}

/// Tag the project's images with a computer-vision backend.
///
/// Images already tagged by the same backend and model are skipped (unless
/// --force), and every answer is saved as it arrives, so an interrupted run
/// can simply be started again: no image is paid for twice. Keys come from
/// the environment (CLARIFAI_PAT, GOOGLE_API_KEY or GOOGLE_ACCESS_TOKEN,
/// OPENAI_API_KEY) or from keys.toml in the user's config directory
/// (e.g. ~/.config/tagscape/keys.toml: clarifai_pat = "..."); they are never
/// written to the project.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  tagscape tag study --with clarifai --max-requests 100 --dry-run\n  CLARIFAI_PAT=... tagscape tag study --with clarifai --min-value 0.1\n  tagscape tag study --with google --features label,web,text\n  tagscape tag study --with openai --model qwen2.5vl:7b --endpoint http://localhost:11434/v1\n  tagscape tag study --with clip --weights ~/models/clip-vit-base-patch32 --threshold 0.05 --top-k 10\n\nExit status: 0 every image done, 3 some failed, 4 none succeeded, 1 error, 2 bad flag."
)]
pub struct TagArgs {
    /// The project directory.
    pub dir: PathBuf,
    /// The backend.
    #[arg(long = "with", value_enum)]
    pub backend: Backend,
    /// The model: Clarifai USER/APP/MODEL[/VERSION] (default clarifai/main/general-image-recognition);
    /// Google builtin/stable or builtin/latest; for openai the served model's name (required).
    #[arg(long)]
    pub model: Option<String>,
    /// Send at most N requests (retries of the same images not counted); the rest waits for the next run.
    #[arg(long, value_name = "N", value_parser = ranges::at_least::<u64>(1))]
    pub max_requests: Option<u64>,
    /// Print how many requests and images would be sent and what it would cost; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Tag again images already tagged by this backend and model (replaces their tags).
    #[arg(long)]
    pub force: bool,
    /// Send again images whose earlier failure was permanent (bad image, URL not reachable).
    #[arg(long)]
    pub retry_failed: bool,
    /// The API's base URL (proxies, enterprise deployments, local servers).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// How images travel: their public URL, or the downloaded bytes. `auto`: the URL when
    /// the image has an http(s) one and the backend can fetch it, bytes otherwise.
    #[arg(long, value_enum, default_value_t = SendMode::Auto)]
    pub send: SendMode,
    /// Images sent as bytes are shrunk to this longer side, in pixels (0: originals as they are).
    #[arg(long, value_name = "PX", default_value_t = 1024, value_parser = ranges::count::<u32>((0, ranges::PIXELS.1)))]
    pub max_side: u32,
    /// Drop tags scored below this (Clarifai default 0.1, as the recipe's tagging tool).
    #[arg(long, value_name = "X", value_parser = ranges::fraction())]
    pub min_value: Option<f64>,
    /// Tags per image, at most.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = ranges::count::<u32>((1, 10_000)))]
    pub max_concepts: u32,
    /// Google features: label, web (web entities), text (words in the image), safe (SafeSearch).
    #[arg(long, value_name = "LIST", default_value = "label")]
    pub features: String,
    /// Images per request (default and most: Clarifai 128, Google 16, openai 1).
    #[arg(long, value_name = "N", value_parser = ranges::count::<usize>((1, 10_000)))]
    pub batch: Option<usize>,
    /// Requests per second (default: the vendor's limit, Clarifai 15, Google 30; openai unlimited).
    #[arg(long, value_name = "R", value_parser = ranges::floats(ranges::RATE))]
    pub rate: Option<f64>,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = ranges::count::<usize>(ranges::CONCURRENCY))]
    pub concurrency: usize,
    /// Retries of a request that was throttled or got no usable answer.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = ranges::count::<u32>(ranges::RETRIES))]
    pub retries: u32,
    /// Seconds before the first retry, doubled each time (the vendor's Retry-After wins).
    #[arg(long, value_name = "SECS", default_value_t = 2.0, value_parser = ranges::floats(ranges::WAIT_SECS))]
    pub retry_wait: f64,
    /// Seconds a request may take.
    #[arg(long, value_name = "SECS", default_value_t = 120.0, value_parser = ranges::floats(ranges::TIMEOUT_SECS))]
    pub timeout: f64,
    /// CLIP: the weights folder (config.json, model.safetensors, tokenizer.json); see `tagscape models`.
    #[arg(long, value_name = "DIR")]
    pub weights: Option<PathBuf>,
    /// CLIP: the concepts tags are chosen from, one per line (default: the 2,173 everyday concepts shipped with tagscape).
    #[arg(long, value_name = "FILE")]
    pub vocabulary: Option<PathBuf>,
    /// CLIP: lowest probability kept as a tag (softmax over the whole vocabulary, CLIP's logit scale).
    #[arg(long, value_name = "X", default_value_t = 0.01, value_parser = ranges::fraction_f32())]
    pub threshold: f32,
    /// CLIP: tags per image, at most.
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = ranges::count::<usize>((1, 100_000)))]
    pub top_k: usize,
    /// Send one image per stack of near-identical images (perceptual hashes at most
    /// --hash-distance bits apart); the others get its tags in `tagscape graph --stack-duplicates`.
    #[arg(long)]
    pub stack_duplicates: bool,
    /// With --stack-duplicates: hashes at most D bits apart (of 64) stack.
    #[arg(long, value_name = "D", default_value_t = crate::graph::duplicates::DEFAULT_HASH_DISTANCE, value_parser = ranges::count::<u32>(ranges::HASH_BITS))]
    pub hash_distance: u32,
    /// CLIP: where the model runs: cpu, cuda, metal (builds with candle's CUDA/Metal features), or auto.
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    pub device: String,
}

pub fn run(args: TagArgs) -> Result<Outcome> {
    let opts = options(&args)?;
    let endpoint = |default: &str| args.endpoint.clone().unwrap_or_else(|| default.to_string());
    match args.backend {
        Backend::Clarifai => {
            let model = args.model.as_deref().unwrap_or(clarifai::DEFAULT_MODEL);
            let settings = clarifai::Settings {
                endpoint: endpoint(clarifai::DEFAULT_ENDPOINT),
                model: clarifai::ModelPath::parse(model)?,
                max_concepts: args.max_concepts,
                min_value: args.min_value.unwrap_or(0.1),
            };
            let info = clarifai::info(&settings);
            if args.dry_run {
                return dry_run(&args, &info, &opts, &[]).map(|()| Outcome::Complete);
            }
            let key = required_key(clarifai::KEY_VARIABLE)?;
            go(&args, clarifai::Clarifai::new(settings, key)?, &opts)
        }
        Backend::Google => {
            let settings = google::Settings {
                endpoint: endpoint(google::DEFAULT_ENDPOINT),
                model: args.model.clone(),
                features: google::Feature::parse_list(&args.features)?,
                max_results: args.max_concepts,
                min_score: args.min_value,
            };
            let info = google::info(&settings);
            if args.dry_run {
                let names: Vec<&str> = settings.features.iter().map(|f| f.name()).collect();
                return dry_run(&args, &info, &opts, &names).map(|()| Outcome::Complete);
            }
            let auth = google_auth()?;
            go(&args, google::Google::new(settings, auth)?, &opts)
        }
        Backend::Openai => {
            let Some(model) = args.model.clone() else {
                bail!(
                    "--model is required with --with openai: name the served vision model, e.g. --model qwen2.5vl:7b"
                );
            };
            let settings = openai::Settings {
                endpoint: endpoint(openai::DEFAULT_ENDPOINT),
                model,
                max_tags: args.max_concepts,
                min_confidence: args.min_value,
            };
            let info = openai::info(&settings);
            if args.dry_run {
                return dry_run(&args, &info, &opts, &[]).map(|()| Outcome::Complete);
            }
            let key = keys::lookup(openai::KEY_VARIABLE)?;
            go(&args, openai::OpenAi::new(settings, key)?, &opts)
        }
        Backend::Clip => clip_local(&args, opts),
    }
}

fn options(args: &TagArgs) -> Result<RunOptions> {
    // The flags' ranges are checked by the parser (`ranges`); this keeps a
    // value that slipped through from panicking in `Duration`.
    let seconds = |value: f64, flag: &str| -> Result<Duration> {
        match Duration::try_from_secs_f64(value) {
            Ok(d) => Ok(d),
            Err(_) => bail!("{flag} {value} is not a number of seconds: give e.g. {flag} 2"),
        }
    };
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        bail!("--rate {rate} is not a number of requests per second above 0: give e.g. --rate 10");
    }
    if let Some(min) = args.min_value
        && !(0.0..=1.0).contains(&min)
    {
        bail!("--min-value {min} is outside 0–1: give e.g. --min-value 0.1");
    }
    if args.batch == Some(0) || args.concurrency == 0 || args.max_concepts == 0 {
        bail!("--batch, --concurrency and --max-concepts must be at least 1");
    }
    let timeout = seconds(args.timeout, "--timeout")?;
    if timeout.is_zero() {
        bail!("--timeout must be above 0 seconds: give e.g. --timeout 120");
    }
    Ok(RunOptions {
        send: args.send,
        max_side: args.max_side,
        batch: args.batch,
        concurrency: args.concurrency,
        rate: args.rate,
        max_requests: args.max_requests,
        force: args.force,
        retry_failed: args.retry_failed,
        retries: args.retries,
        retry_wait: seconds(args.retry_wait, "--retry-wait")?,
        timeout,
        skip_images: Default::default(),
    })
}

fn required_key(variable: &str) -> Result<ApiKey> {
    match keys::lookup(variable)? {
        Some(key) => Ok(key),
        None => bail!("no API key: {}", keys::how_to_set(variable)),
    }
}

/// An API key (`?key=`), else an OAuth access token (`Authorization: Bearer`).
/// A service-account file (GOOGLE_APPLICATION_CREDENTIALS) is not read
/// directly: `gcloud` turns it into a token.
fn google_auth() -> Result<google::Auth> {
    if let Some(key) = keys::lookup(google::KEY_VARIABLE)? {
        return Ok(google::Auth::ApiKey(key));
    }
    if let Some(token) = keys::lookup(google::TOKEN_VARIABLE)? {
        let project = std::env::var(google::PROJECT_VARIABLE)
            .ok()
            .filter(|p| !p.trim().is_empty());
        return Ok(google::Auth::Token { token, project });
    }
    let credentials = if std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some() {
        " (GOOGLE_APPLICATION_CREDENTIALS is set: tagscape does not read service-account files; run `export GOOGLE_ACCESS_TOKEN=$(gcloud auth application-default print-access-token)`)"
    } else {
        ""
    };
    bail!(
        "no Google credentials{credentials}: {}, or set {} to the output of `gcloud auth print-access-token` (and {} to the billed project)",
        keys::how_to_set(google::KEY_VARIABLE),
        google::TOKEN_VARIABLE,
        google::PROJECT_VARIABLE
    )
}

/// With --stack-duplicates, the images not sent: every member of a stack of
/// near-duplicates but its representative. Missing hashes are computed first
/// when the project is open for writing.
fn stack_followers(project: &mut Project, args: &TagArgs, write: bool) -> Result<RunOptionsSkip> {
    use crate::graph::duplicates;
    if !args.stack_duplicates {
        return Ok(Default::default());
    }
    if write {
        duplicates::backfill_hashes(project)?;
    }
    let stacks = duplicates::project_stacks(project, args.hash_distance)?;
    Ok(std::sync::Arc::new(
        stacks
            .iter()
            .flat_map(|s| {
                s.members
                    .iter()
                    .map(|(id, _)| *id)
                    .filter(move |id| *id != s.representative)
            })
            .collect(),
    ))
}

type RunOptionsSkip = std::sync::Arc<std::collections::HashSet<i64>>;

fn dry_run(args: &TagArgs, info: &TaggerInfo, opts: &RunOptions, features: &[&str]) -> Result<()> {
    let mut project = Project::open(&args.dir, Access::Read)?;
    let mut opts = opts.clone();
    opts.skip_images = stack_followers(&mut project, args, false)?;
    let opts = &opts;
    let plan = tagger::plan(&project, info, opts)?;
    let as_url: u64 = plan.batches.iter().flatten().filter(|p| p.as_url).count() as u64;
    crate::ui::summary(format_args!(
        "dry run: tag {} {} would send {} requests with {} images ({} as URLs, {} as bytes){}; cost: {}",
        info.backend,
        info.model,
        plan.requests(),
        plan.images(),
        as_url,
        plan.images() - as_url,
        skipped(&plan),
        pricing::estimate(info.backend, features, plan.images())
    ));
    Ok(())
}

fn skipped(plan: &Plan) -> String {
    let mut parts = Vec::new();
    for (n, why) in [
        (plan.skipped_done, "already tagged"),
        (plan.skipped_failed, "failed before"),
        (plan.skipped_not_downloaded, "not downloaded"),
        (plan.left_for_later, "left by --max-requests"),
        (
            plan.skipped_duplicates,
            "near-duplicates of a stacked image",
        ),
    ] {
        if n > 0 {
            parts.push(format!("{n} {why}"));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", skipping {}", parts.join(", "))
    }
}

fn go<T: Tagger>(args: &TagArgs, backend: T, opts: &RunOptions) -> Result<Outcome> {
    let mut project = Project::open(&args.dir, Access::Write)?;
    let mut opts = opts.clone();
    opts.skip_images = stack_followers(&mut project, args, true)?;
    let opts = &opts;
    let plan = tagger::plan(&project, backend.info(), opts)?;
    let outcome = tagger::run(&mut project, backend, plan, opts)?;
    let result = Outcome::from_counts(outcome.report.tagged, outcome.report.failed_total());
    crate::ui::summary(outcome.report);
    match outcome.stopped {
        Some(reason) => Err(reason.context("the run stopped; what was answered is saved")),
        None => Ok(result),
    }
}

/// `--with clip`: a local model, no key, no cost. Images go as the bytes of
/// their downloaded originals (upright), one batch at a time (the model uses
/// every core).
fn clip_local(args: &TagArgs, mut opts: RunOptions) -> Result<Outcome> {
    use crate::tagging::clip::{self, model::Clip, vocabulary};
    let Some(weights) = &args.weights else {
        bail!(
            "--weights DIR is required with --with clip: a folder with a CLIP model's config.json and model.safetensors (run `tagscape models` to see where to get them)"
        );
    };
    if !(args.threshold.is_finite() && (0.0..=1.0).contains(&args.threshold)) {
        bail!(
            "--threshold {} is outside 0–1: give e.g. --threshold 0.01",
            args.threshold
        );
    }
    if args.top_k == 0 {
        bail!("--top-k 0 would keep no tag: give at least 1, e.g. --top-k 10");
    }
    opts.send = SendMode::Bytes;
    opts.max_side = 0;
    opts.concurrency = 1;
    let vocabulary = match &args.vocabulary {
        Some(path) => vocabulary::Vocabulary::read(path)?,
        None => vocabulary::Vocabulary::default_vocabulary(),
    };
    let device = clip::model::device(&args.device)?;
    let model = Clip::load(weights, &device)?;
    let embedding_key = clip::embedding_key(&model);
    let info = clip::info(&embedding_key, &vocabulary.key);
    if args.dry_run {
        return dry_run(args, &info, &opts, &[]).map(|()| Outcome::Complete);
    }
    let mut project = Project::open(&args.dir, Access::Write)?;
    opts.skip_images = stack_followers(&mut project, args, true)?;
    let concepts =
        vocabulary::ConceptEmbeddings::cached(&mut project, &embedding_key, &model, &vocabulary)?;
    let settings = clip::Settings {
        threshold: args.threshold,
        top_k: args.top_k,
    };
    let backend = clip::ClipTagger::new(info.clone(), model, concepts, settings);
    let plan = tagger::plan(&project, &info, &opts)?;
    let outcome = tagger::run(&mut project, backend, plan, &opts)?;
    let stored = clip::store_embeddings(&mut project, &info.model, &embedding_key)?;
    let result = Outcome::from_counts(outcome.report.tagged, outcome.report.failed_total());
    crate::ui::summary(format_args!(
        "{}; {} image embeddings stored ({} concepts from {})",
        outcome.report,
        stored,
        vocabulary.concepts.len(),
        vocabulary.origin
    ));
    match outcome.stopped {
        Some(reason) => Err(reason.context("the run stopped; what was answered is saved")),
        None => Ok(result),
    }
}
