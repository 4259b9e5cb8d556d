//! Statement results as the Statement Execution API serves them: every value as a string
//! (or null), in chunks, with the manifest describing columns as Databricks names them.

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use kiln_api::sql::{ChunkInfo, ColumnInfo, ResultData, ResultManifest, ResultSchema};

use crate::error::SqlError;
use crate::types;

/// A chunk closes once its rows reach this many bytes (of JSON text, roughly).
const CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// INLINE results may not exceed 25 MiB in all.
pub const INLINE_LIMIT_BYTES: usize = 25 * 1024 * 1024;

pub type Row = Vec<Option<String>>;

#[derive(Debug, Clone)]
pub struct Chunk {
    pub row_offset: i64,
    pub rows: Vec<Row>,
    pub byte_count: i64,
}

/// A finished statement's rows, chunked.
#[derive(Debug, Clone)]
pub struct ResultSet {
    pub columns: Vec<ColumnInfo>,
    pub chunks: Vec<Chunk>,
    pub total_rows: i64,
    pub total_bytes: i64,
    pub truncated: bool,
}

/// Collects rows up to `row_limit` and `byte_limit`, marking the result truncated when a
/// limit cut it short.
#[derive(Debug)]
pub struct ResultBuilder {
    set: ResultSet,
    current: Chunk,
    row_limit: Option<usize>,
    byte_limit: Option<usize>,
}

impl ResultBuilder {
    pub fn new(schema: &Schema, row_limit: Option<usize>, byte_limit: Option<usize>) -> ResultBuilder {
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
        ResultBuilder {
            set: ResultSet { columns, chunks: Vec::new(), total_rows: 0, total_bytes: 0, truncated: false },
            current: Chunk { row_offset: 0, rows: Vec::new(), byte_count: 0 },
            row_limit,
            byte_limit: byte_limit.map(|limit| limit.min(INLINE_LIMIT_BYTES)).or(Some(INLINE_LIMIT_BYTES)),
        }
    }

    /// True once a limit was reached: the caller stops reading the stream.
    pub fn is_full(&self) -> bool {
        self.set.truncated
    }

    pub fn push(&mut self, batch: &RecordBatch) -> Result<(), SqlError> {
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
        for row_index in 0..batch.num_rows() {
            if self.row_limit.is_some_and(|limit| self.set.total_rows as usize >= limit) {
                self.set.truncated = true;
                return Ok(());
            }
            let row: Row = batch
                .columns()
                .iter()
                .zip(&formatters)
                .map(|(column, formatter)| (!column.is_null(row_index)).then(|| value_text(column.data_type(), formatter, row_index)))
                .collect();
            let bytes: usize = row.iter().map(|v| v.as_ref().map_or(4, |s| s.len() + 3)).sum::<usize>() + 2;
            if self.byte_limit.is_some_and(|limit| self.set.total_bytes as usize + bytes > limit) {
                self.set.truncated = true;
                return Ok(());
            }
            if self.current.byte_count as usize + bytes > CHUNK_BYTES && !self.current.rows.is_empty() {
                self.close_chunk();
            }
            self.current.rows.push(row);
            self.current.byte_count += bytes as i64;
            self.set.total_rows += 1;
            self.set.total_bytes += bytes as i64;
        }
        Ok(())
    }

    fn close_chunk(&mut self) {
        let next = Chunk { row_offset: self.set.total_rows, rows: Vec::new(), byte_count: 0 };
        let done = std::mem::replace(&mut self.current, next);
        self.set.chunks.push(done);
    }

    pub fn finish(mut self) -> ResultSet {
        if !self.current.rows.is_empty() || self.set.chunks.is_empty() {
            self.close_chunk();
        }
        self.set
    }
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
    pub fn manifest(&self, format: &str) -> ResultManifest {
        ResultManifest {
            format: format.to_string(),
            schema: ResultSchema { column_count: self.columns.len() as i32, columns: self.columns.clone() },
            total_chunk_count: self.chunks.len() as i32,
            chunks: self.chunks.iter().enumerate().map(|(index, chunk)| chunk_info(index, chunk)).collect(),
            total_row_count: self.total_rows,
            total_byte_count: None,
            truncated: self.truncated,
        }
    }

    /// Chunk `index` with its rows; `None` when there is no such chunk.
    pub fn data(&self, statement_id: &str, index: usize) -> Option<ResultData> {
        let chunk = self.chunks.get(index)?;
        let next = (index + 1 < self.chunks.len()).then_some(index + 1);
        Some(ResultData {
            chunk_index: index as i32,
            row_offset: chunk.row_offset,
            row_count: chunk.rows.len() as i64,
            byte_count: None,
            data_array: Some(chunk.rows.clone()),
            next_chunk_index: next.map(|n| n as i32),
            next_chunk_internal_link: next.map(|n| format!("/api/2.0/sql/statements/{statement_id}/result/chunks/{n}")),
        })
    }
}

fn chunk_info(index: usize, chunk: &Chunk) -> ChunkInfo {
    ChunkInfo { chunk_index: index as i32, row_offset: chunk.row_offset, row_count: chunk.rows.len() as i64, byte_count: None }
}
