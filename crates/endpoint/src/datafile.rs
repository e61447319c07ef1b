//! Dataset files read offline, leniently: JSONL (one prompt per line:
//! `prompt`/`text`/... or `messages`), ShareGPT JSON (`conversations` of
//! `from`/`value` turns), and Parquet or Arrow IPC files (the formats
//! Hugging Face datasets are stored in), whose columns are named like the
//! JSONL keys.
//!
//! A row may name local images (`image`: a path, or `images`: a list of
//! paths, relative to the dataset's folder): the prompt is then a chat
//! message whose content is the text and each image inline as a `data:`
//! URL (OpenAI's `image_url` part), for vision models.
//!
//! A file of the wrong shape is an error naming the file, the line or row
//! and what was expected. Rows that cannot be used are skipped and counted
//! (with the first few reasons) when the rest of the file is usable.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use serde_json::{Map, Value};

use crate::dataset::{Dataset, Prompt, MAX_TOKEN_FIELDS, PROMPT_FIELDS, REFERENCE_FIELDS};
use crate::error::EndpointError;

/// Dataset file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFileFormat {
    Jsonl,
    ShareGpt,
    Parquet,
    /// Arrow IPC, file (`ARROW1`) or stream format (Hugging Face's cache).
    Arrow,
}

impl DataFileFormat {
    pub fn name(&self) -> &'static str {
        match self {
            DataFileFormat::Jsonl => "jsonl",
            DataFileFormat::ShareGpt => "sharegpt",
            DataFileFormat::Parquet => "parquet",
            DataFileFormat::Arrow => "arrow",
        }
    }
}

/// Reasons kept for the first skipped rows.
const SKIP_EXAMPLES: usize = 5;

/// A loaded dataset and what was skipped.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    pub dataset: Dataset,
    pub format: DataFileFormat,
    /// Rows (lines, conversations) read.
    pub rows: usize,
    /// Rows skipped as unusable.
    pub skipped: usize,
    /// `line N: reason` (or `row N`) of the first skipped rows.
    pub skipped_examples: Vec<String>,
}

impl LoadedDataset {
    /// A line for the run's notes, when rows were skipped.
    pub fn skip_note(&self) -> Option<String> {
        (self.skipped > 0).then(|| {
            format!(
                "dataset {}: skipped {} of {} rows ({})",
                self.dataset.name,
                self.skipped,
                self.rows,
                self.skipped_examples.join("; ")
            )
        })
    }
}

/// Columns / keys a row is read from.
fn wanted_keys(prompt_field: Option<&str>) -> Vec<&str> {
    let mut keys: Vec<&str> = Vec::new();
    keys.extend(prompt_field);
    keys.extend(PROMPT_FIELDS);
    keys.extend(MAX_TOKEN_FIELDS);
    keys.extend(REFERENCE_FIELDS);
    keys.extend([
        "system",
        "messages",
        "conversations",
        "conversation",
        "tok_input_len",
        "input_tokens",
        "image",
        "images",
    ]);
    keys
}

fn expected_prompt(prompt_field: Option<&str>) -> String {
    match prompt_field {
        Some(f) => format!("a string field `{f}`"),
        None => format!(
            "one of {PROMPT_FIELDS:?}, `messages` (a list of role/content) or `conversations` (ShareGPT from/value turns)"
        ),
    }
}

fn as_u32(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .map(|n| n.min(u32::MAX as u64) as u32)
}

fn str_field<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
}

/// The first `want` turn's text of a ShareGPT conversation.
fn sharegpt_turn<'a>(conv: &'a [Value], want: &[&str]) -> Option<&'a str> {
    conv.iter().find_map(|t| {
        let from = t.get("from").or_else(|| t.get("role"))?.as_str()?;
        if want.contains(&from) {
            t.get("value").or_else(|| t.get("content"))?.as_str()
        } else {
            None
        }
    })
}

/// The MIME type of an image file, by extension.
fn image_mime(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        _ => return None,
    })
}

/// An `image_url` content part holding the file inline.
fn image_part(base: &Path, name: &str) -> Result<Value, String> {
    use base64::Engine;
    let path = base.join(name);
    let mime = image_mime(&path).ok_or_else(|| {
        format!("image `{name}`: expected a .png, .jpg, .jpeg, .gif, .webp or .bmp file")
    })?;
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("image `{}`: cannot read: {e}", path.display()))?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(serde_json::json!({
        "type": "image_url",
        "image_url": {"url": format!("data:{mime};base64,{data}")}
    }))
}

/// Turns a text prompt naming images (`image` / `images`) into one user
/// message of text and image parts.
fn attach_images(mut p: Prompt, obj: &Map<String, Value>, base: &Path) -> Result<Prompt, String> {
    let names: Vec<&str> = match (obj.get("image"), obj.get("images")) {
        (Some(Value::String(one)), _) => vec![one.as_str()],
        (_, Some(Value::Array(many))) => many
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| "`images`: expected a list of file paths".to_string())
            })
            .collect::<Result<_, _>>()?,
        (Some(Value::Null) | None, Some(Value::Null) | None) => return Ok(p),
        _ => return Err("`image`/`images`: expected a file path or a list of paths".into()),
    };
    if names.is_empty() {
        return Ok(p);
    }
    if p.messages.is_some() || p.raw_body.is_some() {
        return Err("`image`/`images` go with a text prompt, not `messages` or `body`".into());
    }
    let mut content = vec![serde_json::json!({"type": "text", "text": p.text})];
    for name in names {
        content.push(image_part(base, name)?);
    }
    p.messages = Some(vec![
        serde_json::json!({"role": "user", "content": content}),
    ]);
    Ok(p)
}

/// A row as a prompt, with its images (paths relative to `base`).
fn row_with_images(
    obj: &Map<String, Value>,
    prompt_field: Option<&str>,
    base: &Path,
) -> Result<Prompt, String> {
    attach_images(prompt_from_row(obj, prompt_field)?, obj, base)
}

/// One row (a JSONL object, a ShareGPT item, a Parquet/Arrow row) as a
/// prompt, or why it cannot be one.
pub fn prompt_from_row(
    obj: &Map<String, Value>,
    prompt_field: Option<&str>,
) -> Result<Prompt, String> {
    let mut p = Prompt {
        max_tokens: MAX_TOKEN_FIELDS.iter().find_map(|f| as_u32(obj.get(*f))),
        reference: str_field(obj, &REFERENCE_FIELDS).map(str::to_string),
        system: str_field(obj, &["system"]).map(str::to_string),
        input_tokens: as_u32(obj.get("tok_input_len")).or_else(|| as_u32(obj.get("input_tokens"))),
        ..Prompt::default()
    };
    let field_text = match prompt_field {
        Some(f) => obj.get(f).and_then(Value::as_str),
        None => str_field(obj, &PROMPT_FIELDS),
    };
    if let Some(t) = field_text {
        p.text = t.to_string();
        return Ok(p);
    }
    if let Some(Value::Array(m)) = obj.get("messages") {
        if m.is_empty() {
            return Err("`messages` is empty".into());
        }
        p.messages = Some(m.clone());
        return Ok(p);
    }
    if let Some(conv) = obj.get("conversations").or_else(|| obj.get("conversation")) {
        let Some(conv) = conv.as_array() else {
            return Err("`conversations` is not a list of turns".into());
        };
        let Some(prompt) = sharegpt_turn(conv, &["human", "user"]) else {
            return Err("no human/user turn in `conversations`".into());
        };
        p.text = prompt.to_string();
        let turns = crate::dataset::sharegpt_conversation(conv);
        p.conversation = (!turns.turns.is_empty()).then_some(turns);
        if p.reference.is_none() {
            p.reference =
                sharegpt_turn(conv, &["gpt", "assistant", "chatgpt", "bard"]).map(str::to_string);
        }
        return Ok(p);
    }
    if let Some(body) = obj.get("body") {
        p.raw_body = Some(body.clone());
        return Ok(p);
    }
    if obj.contains_key("inputs") {
        p.raw_body = Some(Value::Object(obj.clone()));
        return Ok(p);
    }
    Err(format!(
        "no prompt: expected {}",
        expected_prompt(prompt_field)
    ))
}

/// Collects rows, skipping bad ones.
struct Rows<'p> {
    path: &'p Path,
    unit: &'static str,
    prompts: Vec<Prompt>,
    rows: usize,
    skipped: usize,
    examples: Vec<String>,
    first_bad: Option<(usize, String)>,
}

impl<'p> Rows<'p> {
    fn new(path: &'p Path, unit: &'static str) -> Self {
        Rows {
            path,
            unit,
            prompts: Vec::new(),
            rows: 0,
            skipped: 0,
            examples: Vec::new(),
            first_bad: None,
        }
    }

    fn push(&mut self, at: usize, row: Result<Prompt, String>) {
        self.rows += 1;
        match row {
            Ok(p) => self.prompts.push(p),
            Err(reason) => {
                self.skipped += 1;
                if self.examples.len() < SKIP_EXAMPLES {
                    self.examples.push(format!("{} {at}: {reason}", self.unit));
                }
                if self.first_bad.is_none() {
                    self.first_bad = Some((at, reason));
                }
            }
        }
    }

    fn finish(self, format: DataFileFormat) -> Result<LoadedDataset, EndpointError> {
        if self.prompts.is_empty() {
            let (line, reason) = match self.first_bad {
                Some((at, reason)) => (
                    at,
                    format!(
                        "no usable {unit}s: all {} skipped; the first ({unit} {at}): {reason}",
                        self.rows,
                        unit = self.unit
                    ),
                ),
                None => (0, "no prompts: the file has no rows".to_string()),
            };
            return Err(EndpointError::Dataset {
                path: self.path.to_path_buf(),
                line,
                reason,
            });
        }
        Ok(LoadedDataset {
            dataset: Dataset {
                name: self
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                prompts: self.prompts,
            },
            format,
            rows: self.rows,
            skipped: self.skipped,
            skipped_examples: self.examples,
        })
    }
}

/// The folder image paths are relative to.
fn base_dir(dataset: &Path) -> std::path::PathBuf {
    dataset.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Guesses the format from the file name, then from its first bytes.
pub fn detect_format(path: &Path, head: &[u8]) -> DataFileFormat {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "parquet" => return DataFileFormat::Parquet,
        "arrow" | "feather" | "ipc" | "arrows" => return DataFileFormat::Arrow,
        _ => {}
    }
    if head.starts_with(b"PAR1") {
        return DataFileFormat::Parquet;
    }
    // ARROW1 (file) or an IPC stream's continuation marker.
    if head.starts_with(b"ARROW1") || head.starts_with(&[0xff, 0xff, 0xff, 0xff]) {
        return DataFileFormat::Arrow;
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => DataFileFormat::ShareGpt,
        _ => DataFileFormat::Jsonl,
    }
}

/// Loads a dataset file (format guessed when `None`).
pub fn load(
    path: &Path,
    format: Option<DataFileFormat>,
    prompt_field: Option<&str>,
) -> Result<LoadedDataset, EndpointError> {
    let io = |source| EndpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    let format = match format {
        Some(f) => f,
        None => {
            use std::io::Read;
            let mut head = Vec::with_capacity(64);
            std::fs::File::open(path)
                .map_err(io)?
                .take(64)
                .read_to_end(&mut head)
                .map_err(|source| EndpointError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            detect_format(path, &head)
        }
    };
    match format {
        DataFileFormat::Jsonl | DataFileFormat::ShareGpt => {
            let bytes = std::fs::read(path).map_err(io)?;
            let text = String::from_utf8(bytes).map_err(|e| EndpointError::Dataset {
                path: path.to_path_buf(),
                line: 0,
                reason: format!(
                    "expected UTF-8 {} text (invalid byte at offset {}); for Parquet or Arrow files give --dataset-format",
                    format.name(),
                    e.utf8_error().valid_up_to()
                ),
            })?;
            if format == DataFileFormat::Jsonl {
                load_jsonl(path, &text, prompt_field)
            } else {
                load_sharegpt(path, &text, prompt_field)
            }
        }
        DataFileFormat::Parquet => load_parquet(path, prompt_field),
        DataFileFormat::Arrow => load_arrow(path, prompt_field),
    }
}

fn load_jsonl(
    path: &Path,
    text: &str,
    prompt_field: Option<&str>,
) -> Result<LoadedDataset, EndpointError> {
    let mut rows = Rows::new(path, "line");
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let row = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(obj)) => row_with_images(&obj, prompt_field, &base_dir(path)),
            Ok(_) => Err("expected a JSON object".to_string()),
            Err(e) => Err(format!("not JSON: {e}")),
        };
        rows.push(i + 1, row);
    }
    rows.finish(DataFileFormat::Jsonl)
}

fn load_sharegpt(
    path: &Path,
    text: &str,
    prompt_field: Option<&str>,
) -> Result<LoadedDataset, EndpointError> {
    let v: Value = serde_json::from_str(text).map_err(|e| EndpointError::Dataset {
        path: path.to_path_buf(),
        line: e.line(),
        reason: format!("expected a ShareGPT JSON array: {e}"),
    })?;
    let items = v.as_array().ok_or_else(|| EndpointError::Dataset {
        path: path.to_path_buf(),
        line: 1,
        reason: "expected a JSON array of {\"conversations\": [{\"from\": ..., \"value\": ...}]}"
            .into(),
    })?;
    let mut rows = Rows::new(path, "item");
    for (i, item) in items.iter().enumerate() {
        let row = match item.as_object() {
            Some(obj) => row_with_images(obj, prompt_field, &base_dir(path)),
            None => Err("expected a JSON object".to_string()),
        };
        rows.push(i + 1, row);
    }
    rows.finish(DataFileFormat::ShareGpt)
}

/// Root columns of `schema` a prompt can be read from; an error naming the
/// columns found when there is none.
fn usable_columns(
    path: &Path,
    schema: &Schema,
    prompt_field: Option<&str>,
) -> Result<Vec<usize>, EndpointError> {
    let wanted = wanted_keys(prompt_field);
    let cols: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| wanted.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let prompt_keys: Vec<&str> = match prompt_field {
        Some(f) => vec![f],
        None => PROMPT_FIELDS
            .iter()
            .copied()
            .chain(["messages", "conversations", "conversation"])
            .collect(),
    };
    let has_prompt = cols
        .iter()
        .any(|&i| prompt_keys.contains(&schema.field(i).name().as_str()));
    if !has_prompt {
        let found: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        return Err(EndpointError::Dataset {
            path: path.to_path_buf(),
            line: 0,
            reason: format!(
                "no prompt column: expected a column named {}; the file has {found:?}",
                expected_prompt(prompt_field)
            ),
        });
    }
    Ok(cols)
}

/// One cell as JSON (strings, numbers, booleans, lists and structs; other
/// types as null).
fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    macro_rules! num {
        ($t:ty) => {
            serde_json::json!(array.as_primitive::<$t>().value(row))
        };
    }
    match array.data_type() {
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float32 => num!(Float32Type),
        DataType::Float64 => num!(Float64Type),
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            Value::Array((0..items.len()).map(|i| cell(&items, i)).collect())
        }
        DataType::LargeList(_) => {
            let items = array.as_list::<i64>().value(row);
            Value::Array((0..items.len()).map(|i| cell(&items, i)).collect())
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            Value::Object(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, col)| (f.name().clone(), cell(col.as_ref(), row)))
                    .collect(),
            )
        }
        _ => Value::Null,
    }
}

fn push_batch(rows: &mut Rows, batch: &RecordBatch, prompt_field: Option<&str>) {
    let schema = batch.schema();
    for r in 0..batch.num_rows() {
        let mut obj = Map::new();
        for (f, col) in schema.fields().iter().zip(batch.columns()) {
            obj.insert(f.name().clone(), cell(col.as_ref(), r));
        }
        let at = rows.rows + 1;
        rows.push(
            at,
            row_with_images(&obj, prompt_field, &base_dir(rows.path)),
        );
    }
}

fn load_parquet(path: &Path, prompt_field: Option<&str>) -> Result<LoadedDataset, EndpointError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ProjectionMask;
    let perr = |what: &str| {
        let what = what.to_string();
        move |source| EndpointError::Parquet {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    let file = std::fs::File::open(path).map_err(|source| EndpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(perr("expected a Parquet file"))?;
    let cols = usable_columns(path, builder.schema(), prompt_field)?;
    // Only the columns a prompt is read from (a dataset may carry images).
    let mask = ProjectionMask::roots(builder.parquet_schema(), cols);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(perr("reading the Parquet file"))?;
    let mut rows = Rows::new(path, "row");
    for batch in reader {
        let batch = batch.map_err(|source| EndpointError::Arrow {
            path: path.to_path_buf(),
            what: format!("reading rows after row {}", rows.rows),
            source,
        })?;
        push_batch(&mut rows, &batch, prompt_field);
    }
    rows.finish(DataFileFormat::Parquet)
}

fn load_arrow(path: &Path, prompt_field: Option<&str>) -> Result<LoadedDataset, EndpointError> {
    let open = || {
        std::fs::File::open(path).map_err(|source| EndpointError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let aerr = |what: String| {
        move |source| EndpointError::Arrow {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    let mut rows = Rows::new(path, "row");
    let mut read =
        |schema: &Schema,
         batches: &mut dyn Iterator<Item = Result<RecordBatch, arrow_schema::ArrowError>>|
         -> Result<(), EndpointError> {
            let cols = usable_columns(path, schema, prompt_field)?;
            for batch in batches {
                let batch = batch.map_err(aerr(format!("reading rows after row {}", rows.rows)))?;
                let batch = batch
                    .project(&cols)
                    .map_err(aerr("selecting the prompt columns".into()))?;
                push_batch(&mut rows, &batch, prompt_field);
            }
            Ok(())
        };
    // The file format (`ARROW1` magic) first, then the stream format that
    // Hugging Face's `datasets` cache writes.
    match arrow_ipc::reader::FileReader::try_new(open()?, None) {
        Ok(mut reader) => {
            let schema = reader.schema();
            read(&schema, &mut reader)?;
        }
        Err(_) => {
            let mut reader = arrow_ipc::reader::StreamReader::try_new(open()?, None).map_err(
                aerr("expected an Arrow IPC file or stream (.arrow, .feather)".into()),
            )?;
            let schema = reader.schema();
            read(&schema, &mut reader)?;
        }
    }
    rows.finish(DataFileFormat::Arrow)
}
