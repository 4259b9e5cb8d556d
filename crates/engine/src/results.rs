//! Statement results as the Statement Execution API serves them, in chunks. INLINE results
//! are JSON arrays of strings kept in memory (25 MiB at most); EXTERNAL_LINKS results are
//! files under the data directory (JSON_ARRAY, CSV or ARROW_STREAM), fetched through
//! expiring signed links.

use std::path::PathBuf;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use kiln_api::sql::{ChunkInfo, ColumnInfo, ResultManifest, ResultSchema};

use crate::error::SqlError;
use crate::types;

/// An INLINE chunk closes once its rows reach this many bytes (of JSON text, roughly).
const INLINE_CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// An external chunk file closes at this size.
const EXTERNAL_CHUNK_BYTES: usize = 16 * 1024 * 1024;
/// INLINE results may not exceed 25 MiB in all.
pub const INLINE_LIMIT_BYTES: usize = 25 * 1024 * 1024;

pub type Row = Vec<Option<String>>;

/// How results are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonArray,
    Csv,
    ArrowStream,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "JSON_ARRAY" => Some(Format::JsonArray),
            "CSV" => Some(Format::Csv),
            "ARROW_STREAM" => Some(Format::ArrowStream),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::JsonArray => "JSON_ARRAY",
            Format::Csv => "CSV",
            Format::ArrowStream => "ARROW_STREAM",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::JsonArray => "application/json",
            Format::Csv => "text/csv",
            Format::ArrowStream => "application/vnd.apache.arrow.stream",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Disposition {
    Inline,
    /// Chunk files go into `dir`.
    ExternalLinks { dir: PathBuf, format: Format },
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub row_offset: i64,
    pub row_count: i64,
    pub byte_count: i64,
    /// INLINE rows.
    pub rows: Vec<Row>,
    /// EXTERNAL_LINKS: the chunk's file.
    pub file: Option<PathBuf>,
}

/// A finished statement's result.
#[derive(Debug, Clone)]
pub struct ResultSet {
    pub columns: Vec<ColumnInfo>,
    pub chunks: Vec<Chunk>,
    pub total_rows: i64,
    pub total_bytes: i64,
    pub truncated: bool,
    pub format: Format,
    pub external: bool,
}

/// The chunk being filled.
#[derive(Debug, Default)]
struct Open {
    rows: Vec<Row>,
    row_count: i64,
    bytes: Vec<u8>,
    byte_count: usize,
    /// Batches of an ARROW_STREAM chunk, written when it closes.
    batches: Vec<RecordBatch>,
}

/// Collects a statement's output into chunks, up to `row_limit` and `byte_limit`; a limit
/// that cuts rows marks the result truncated.
#[derive(Debug)]
pub struct ResultBuilder {
    set: ResultSet,
    schema: SchemaRef,
    disposition: Disposition,
    open: Open,
    row_limit: Option<usize>,
    byte_limit: usize,
}

impl ResultBuilder {
    pub fn new(schema: SchemaRef, disposition: Disposition, row_limit: Option<usize>, byte_limit: Option<usize>) -> Result<ResultBuilder, SqlError> {
        let columns = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(position, field)| {
                let decimal = types::decimal_parts(field.data_type());
                ColumnInfo {
                    name: field.name().clone(),
                    position: position as i32,
                    type_name: types::manifest_type_name(field.data_type()).to_string(),
                    type_text: types::manifest_type_text(field.data_type()),
                    type_precision: decimal.map(|(p, _)| p),
                    type_scale: decimal.map(|(_, s)| s),
                }
            })
            .collect();
        let (format, external, default_limit) = match &disposition {
            Disposition::Inline => (Format::JsonArray, false, INLINE_LIMIT_BYTES),
            Disposition::ExternalLinks { dir, format } => {
                std::fs::create_dir_all(dir).map_err(|e| SqlError::internal(format!("cannot create result directory {}: {e}", dir.display())))?;
                (*format, true, usize::MAX)
            }
        };
        let byte_limit = match byte_limit {
            Some(limit) if !external => limit.min(INLINE_LIMIT_BYTES),
            Some(limit) => limit,
            None => default_limit,
        };
        Ok(ResultBuilder {
            set: ResultSet { columns, chunks: Vec::new(), total_rows: 0, total_bytes: 0, truncated: false, format, external },
            schema,
            disposition,
            open: Open::default(),
            row_limit,
            byte_limit,
        })
    }

    /// True once a limit was reached: the caller stops reading the stream.
    pub fn is_full(&self) -> bool {
        self.set.truncated
    }

    pub fn push(&mut self, batch: &RecordBatch) -> Result<(), SqlError> {
        if self.set.format == Format::ArrowStream {
            return self.push_arrow(batch);
        }
        let options = FormatOptions::new()
            .with_null("")
            .with_timestamp_tz_format(Some("%Y-%m-%dT%H:%M:%S%.3fZ"))
            .with_timestamp_format(Some("%Y-%m-%dT%H:%M:%S%.3f"));
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|e| SqlError::internal(format!("formatting results: {e}")))?;
        let nested: Vec<Option<Vec<Option<String>>>> = batch.columns().iter().map(|column| is_nested(column.data_type()).then(|| json_texts(column)).transpose()).collect::<Result<_, _>>()?;
        for row_index in 0..batch.num_rows() {
            if self.row_limit.is_some_and(|limit| self.set.total_rows as usize >= limit) {
                self.set.truncated = true;
                return Ok(());
            }
            let row: Row = batch
                .columns()
                .iter()
                .zip(&formatters)
                .zip(&nested)
                .map(|((column, formatter), json)| match json {
                    Some(texts) => texts[row_index].clone(),
                    None => (!is_null(column.as_ref(), row_index)).then(|| value_text(column.data_type(), formatter, row_index)),
                })
                .collect();
            let encoded = match self.set.format {
                Format::Csv => csv_line(&row),
                _ => serde_json::to_vec(&row).map_err(|e| SqlError::internal(e.to_string()))?,
            };
            if self.set.total_bytes as usize + encoded.len() > self.byte_limit {
                self.set.truncated = true;
                return Ok(());
            }
            let chunk_limit = if self.set.external { EXTERNAL_CHUNK_BYTES } else { INLINE_CHUNK_BYTES };
            if self.open.byte_count + encoded.len() > chunk_limit && self.open.row_count > 0 {
                self.close_chunk()?;
            }
            self.open.byte_count += encoded.len();
            self.open.row_count += 1;
            self.set.total_rows += 1;
            self.set.total_bytes += encoded.len() as i64;
            if self.set.external {
                self.open.bytes.extend_from_slice(&encoded);
            } else {
                self.open.rows.push(row);
            }
        }
        Ok(())
    }

    fn push_arrow(&mut self, batch: &RecordBatch) -> Result<(), SqlError> {
        let mut batch = batch.clone();
        if let Some(limit) = self.row_limit {
            let room = limit.saturating_sub(self.set.total_rows as usize);
            if batch.num_rows() > room {
                batch = batch.slice(0, room);
                self.set.truncated = true;
            }
        }
        let size = batch.get_array_memory_size();
        if self.set.total_bytes as usize + size > self.byte_limit {
            self.set.truncated = true;
            return Ok(());
        }
        if self.open.byte_count + size > EXTERNAL_CHUNK_BYTES && self.open.row_count > 0 {
            self.close_chunk()?;
        }
        self.open.byte_count += size;
        self.open.row_count += batch.num_rows() as i64;
        self.set.total_rows += batch.num_rows() as i64;
        self.set.total_bytes += size as i64;
        self.open.batches.push(batch);
        Ok(())
    }

    fn close_chunk(&mut self) -> Result<(), SqlError> {
        let open = std::mem::take(&mut self.open);
        let row_offset = self.set.total_rows - open.row_count;
        let index = self.set.chunks.len();
        let (file, byte_count) = match &self.disposition {
            Disposition::Inline => (None, open.byte_count as i64),
            Disposition::ExternalLinks { dir, format } => {
                let bytes = match format {
                    Format::ArrowStream => arrow_stream(&self.schema, &open.batches)?,
                    Format::Csv if index == 0 => {
                        let header: Row = self.set.columns.iter().map(|c| Some(c.name.clone())).collect();
                        [csv_line(&header), open.bytes].concat()
                    }
                    Format::Csv => open.bytes,
                    Format::JsonArray => json_array(&open.bytes),
                };
                let path = dir.join(format!("chunk-{index}"));
                std::fs::write(&path, &bytes).map_err(|e| SqlError::internal(format!("cannot write result chunk {}: {e}", path.display())))?;
                (Some(path), bytes.len() as i64)
            }
        };
        self.set.chunks.push(Chunk { row_offset, row_count: open.row_count, byte_count, rows: open.rows, file });
        Ok(())
    }

    /// Reads a statement's rows until they end or a limit is reached, then finishes.
    pub async fn collect(mut self, stream: &mut datafusion::execution::SendableRecordBatchStream) -> Result<ResultSet, SqlError> {
        use futures::StreamExt;
        while let Some(batch) = stream.next().await {
            self.push(&batch.map_err(SqlError::from_datafusion)?)?;
            if self.is_full() {
                break;
            }
        }
        self.finish()
    }

    pub fn finish(mut self) -> Result<ResultSet, SqlError> {
        if self.open.row_count > 0 || self.set.chunks.is_empty() {
            self.close_chunk()?;
        }
        Ok(self.set)
    }
}

/// Rows encoded one JSON array per row, joined into one array of rows.
fn json_array(rows: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() + 2);
    out.push(b'[');
    // Each encoded row is a complete JSON array; commas go between them.
    let mut depth = 0_i32;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in rows {
        if depth == 0 && byte == b'[' && out.len() > 1 {
            out.push(b',');
        }
        out.push(byte);
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'[' => depth += 1,
                b']' => depth -= 1,
                _ => {}
            }
        }
    }
    out.push(b']');
    out
}

/// One RFC 4180 line; NULL is written as `null`, as Databricks does.
fn csv_line(row: &Row) -> Vec<u8> {
    let fields: Vec<String> = row
        .iter()
        .map(|value| match value {
            None => "null".to_string(),
            Some(text) if text.contains([',', '"', '\n', '\r']) => format!("\"{}\"", text.replace('"', "\"\"")),
            Some(text) => text.clone(),
        })
        .collect();
    format!("{}\r\n", fields.join(",")).into_bytes()
}

fn arrow_stream(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, SqlError> {
    let mut bytes = Vec::new();
    let failed = |e: datafusion::arrow::error::ArrowError| SqlError::internal(format!("writing an Arrow result chunk: {e}"));
    let mut writer = StreamWriter::try_new(&mut bytes, schema.as_ref()).map_err(failed)?;
    for batch in batches {
        writer.write(batch).map_err(failed)?;
    }
    writer.finish().map_err(failed)?;
    drop(writer);
    Ok(bytes)
}

/// `NullArray` (an untyped NULL) has no null buffer, so ask for its logical nulls.
fn is_null(column: &dyn Array, row: usize) -> bool {
    column.data_type() == &DataType::Null || column.is_null(row)
}

fn is_nested(data_type: &DataType) -> bool {
    matches!(data_type, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) | DataType::Struct(_) | DataType::Map(_, _))
}

/// Databricks answers arrays, structs and maps as JSON text: `[1,2]`, `{"a":1}`, fields
/// in their order. Arrow writes one `{"v":<value>}` line per row (`{}` for NULL), from which
/// the value is cut.
fn json_texts(column: &ArrayRef) -> Result<Vec<Option<String>>, SqlError> {
    let failed = |e: &dyn std::fmt::Display| SqlError::internal(format!("formatting results: {e}"));
    let single = RecordBatch::try_from_iter([("v", column.clone())]).map_err(|e| failed(&e))?;
    let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(Vec::new());
    writer.write(&single).map_err(|e| failed(&e))?;
    writer.finish().map_err(|e| failed(&e))?;
    let text = String::from_utf8(writer.into_inner()).map_err(|e| failed(&e))?;
    Ok(text.lines().map(|line| line.strip_prefix("{\"v\":").and_then(|rest| rest.strip_suffix('}')).map(str::to_string)).collect())
}

/// Arrow's display text, except where Databricks spells values differently.
fn value_text(data_type: &DataType, formatter: &ArrayFormatter, row: usize) -> String {
    let text = formatter.value(row).to_string();
    match data_type {
        // Databricks renders doubles in Java style: 1.0, not 1.
        DataType::Float32 | DataType::Float64 if !text.contains(['.', 'e', 'E', 'N', 'i']) => format!("{text}.0"),
        _ => text,
    }
}

impl ResultSet {
    pub fn manifest(&self) -> ResultManifest {
        ResultManifest {
            format: self.format.as_str().to_string(),
            schema: ResultSchema { column_count: self.columns.len() as i32, columns: self.columns.clone() },
            total_chunk_count: self.chunks.len() as i32,
            chunks: self
                .chunks
                .iter()
                .enumerate()
                .map(|(index, chunk)| ChunkInfo {
                    chunk_index: index as i32,
                    row_offset: chunk.row_offset,
                    row_count: chunk.row_count,
                    byte_count: self.external.then_some(chunk.byte_count),
                })
                .collect(),
            total_row_count: self.total_rows,
            total_byte_count: self.external.then_some(self.chunks.iter().map(|c| c.byte_count).sum()),
            truncated: self.truncated,
        }
    }

    /// Removes the chunk files of an expired result.
    pub fn remove_files(&self) {
        for file in self.chunks.iter().filter_map(|chunk| chunk.file.as_ref()) {
            let _ = std::fs::remove_file(file);
        }
        if let Some(dir) = self.chunks.iter().filter_map(|chunk| chunk.file.as_ref()).next().and_then(|f| f.parent()) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rows_join_into_one_array_and_csv_quotes() {
        let rows = [serde_json::to_vec(&vec![Some("a]["), None]).unwrap(), serde_json::to_vec(&vec![Some("x\"y"), Some("2")]).unwrap()].concat();
        let joined: serde_json::Value = serde_json::from_slice(&json_array(&rows)).unwrap();
        assert_eq!(joined, serde_json::json!([["a][", null], ["x\"y", "2"]]));
        assert_eq!(csv_line(&vec![Some("a,b".into()), None, Some("q\"".into())]), b"\"a,b\",null,\"q\"\"\"\r\n".to_vec());
    }
}
