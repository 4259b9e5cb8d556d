//! Databricks SQL types and Arrow types: names as DESCRIBE, Unity Catalog and the Statement
//! Execution manifest spell them, and parsing of type text such as `decimal(10,2)` or
//! `array<struct<a:int,b:string>>`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};

/// The time zone Kiln stores `TIMESTAMP` values in (Delta requires UTC).
pub const UTC: &str = "UTC";

/// `decimal(10,2)`, `array<int>`, `struct<a:int>`: the lower-case form DESCRIBE and Unity
/// Catalog's `type_text` use.
pub fn type_text(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "void".to_string(),
        DataType::Boolean => "boolean".to_string(),
        DataType::Int8 => "tinyint".to_string(),
        DataType::Int16 | DataType::UInt8 => "smallint".to_string(),
        DataType::Int32 | DataType::UInt16 => "int".to_string(),
        // Unsigned 64-bit values come from counters such as row_number(); Spark types those
        // as integers, and so does Delta.
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".to_string(),
        DataType::Float16 | DataType::Float32 => "float".to_string(),
        DataType::Float64 => "double".to_string(),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".to_string(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "binary".to_string(),
        DataType::Date32 | DataType::Date64 => "date".to_string(),
        DataType::Timestamp(_, Some(_)) => "timestamp".to_string(),
        DataType::Timestamp(_, None) => "timestamp_ntz".to_string(),
        DataType::Interval(_) | DataType::Duration(_) => "interval".to_string(),
        DataType::Time32(_) | DataType::Time64(_) => "string".to_string(),
        DataType::List(field) | DataType::LargeList(field) | DataType::ListView(field) | DataType::LargeListView(field) | DataType::FixedSizeList(field, _) => {
            format!("array<{}>", type_text(field.data_type()))
        }
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields.iter().map(|f| format!("{}:{}", f.name(), type_text(f.data_type()))).collect();
            format!("struct<{}>", inner.join(","))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!("map<{},{}>", type_text(kv[0].data_type()), type_text(kv[1].data_type())),
            _ => "map<string,string>".to_string(),
        },
        DataType::Dictionary(_, value) => type_text(value),
        DataType::RunEndEncoded(_, values) => type_text(values.data_type()),
        DataType::Union(_, _) => "string".to_string(),
    }
}

/// The upper-case form the Statement Execution manifest uses in `type_text`.
pub fn manifest_type_text(data_type: &DataType) -> String {
    type_text(data_type).to_uppercase()
}

/// `type_name` of Unity Catalog's `ColumnInfo` (`LONG` for bigint, `TIMESTAMP_NTZ`, ...).
pub fn uc_type_name(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Timestamp(_, None) => "TIMESTAMP_NTZ",
        other => manifest_type_name(other),
    }
}

/// `type_name` of the Statement Execution manifest; it has no TIMESTAMP_NTZ.
pub fn manifest_type_name(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Null => "NULL",
        DataType::Boolean => "BOOLEAN",
        DataType::Int8 => "BYTE",
        DataType::Int16 | DataType::UInt8 => "SHORT",
        DataType::Int32 | DataType::UInt16 => "INT",
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "LONG",
        DataType::Float16 | DataType::Float32 => "FLOAT",
        DataType::Float64 => "DOUBLE",
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => "DECIMAL",
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => "BINARY",
        DataType::Date32 | DataType::Date64 => "DATE",
        DataType::Timestamp(..) => "TIMESTAMP",
        DataType::Interval(_) | DataType::Duration(_) => "INTERVAL",
        DataType::List(_) | DataType::LargeList(_) | DataType::ListView(_) | DataType::LargeListView(_) | DataType::FixedSizeList(..) => "ARRAY",
        DataType::Struct(_) => "STRUCT",
        DataType::Map(..) => "MAP",
        DataType::Dictionary(_, value) => manifest_type_name(value),
        DataType::RunEndEncoded(_, values) => manifest_type_name(values.data_type()),
        _ => "STRING",
    }
}

/// Precision and scale of a decimal type.
pub fn decimal_parts(data_type: &DataType) -> Option<(i32, i32)> {
    match data_type {
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => Some((i32::from(*p), i32::from(*s))),
        DataType::Dictionary(_, value) => decimal_parts(value),
        _ => None,
    }
}

/// Spark's JSON form of a type, as Unity Catalog's `type_json` embeds it.
pub fn spark_type_json(data_type: &DataType) -> serde_json::Value {
    use serde_json::json;
    match data_type {
        DataType::Int32 | DataType::UInt16 => json!("integer"),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => json!("long"),
        DataType::Int16 | DataType::UInt8 => json!("short"),
        DataType::Int8 => json!("byte"),
        DataType::List(field) | DataType::LargeList(field) | DataType::ListView(field) | DataType::LargeListView(field) | DataType::FixedSizeList(field, _) => {
            json!({"type": "array", "elementType": spark_type_json(field.data_type()), "containsNull": field.is_nullable()})
        }
        DataType::Struct(fields) => json!({
            "type": "struct",
            "fields": fields.iter().map(|f| spark_field_json(f.name(), f.data_type(), f.is_nullable(), None)).collect::<Vec<_>>(),
        }),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => json!({
                "type": "map",
                "keyType": spark_type_json(kv[0].data_type()),
                "valueType": spark_type_json(kv[1].data_type()),
                "valueContainsNull": kv[1].is_nullable(),
            }),
            _ => json!("string"),
        },
        DataType::Dictionary(_, value) => spark_type_json(value),
        other => json!(type_text(other)),
    }
}

/// One Spark `StructField` as JSON: `{"name", "type", "nullable", "metadata"}`.
pub fn spark_field_json(name: &str, data_type: &DataType, nullable: bool, comment: Option<&str>) -> serde_json::Value {
    let metadata = match comment {
        Some(comment) => serde_json::json!({"comment": comment}),
        None => serde_json::json!({}),
    };
    serde_json::json!({"name": name, "type": spark_type_json(data_type), "nullable": nullable, "metadata": metadata})
}

/// Parses Databricks type text, any case: `INT`, `bigint`, `DECIMAL(10, 2)`, `VARCHAR(20)`,
/// `ARRAY<INT>`, `MAP<STRING, INT>`, `STRUCT<a: INT, b STRING>`, `TIMESTAMP_NTZ`.
/// Deepest nesting of `<` and `(` in one type (Spark itself stops well before: deep types are
/// not addressable).
const MAX_TYPE_NESTING: usize = 100;

pub fn parse_type(text: &str) -> Result<DataType, String> {
    // The parser recurses once per nested type; refuse nesting no table needs before it
    // could exhaust the stack.
    let mut depth = 0usize;
    let mut nesting = 0usize;
    for c in text.chars() {
        match c {
            '<' | '(' => {
                depth += 1;
                nesting = nesting.max(depth);
            }
            '>' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if nesting > MAX_TYPE_NESTING {
        return Err(format!("type '{}...' nests more than {MAX_TYPE_NESTING} types", text.chars().take(40).collect::<String>()));
    }
    let mut parser = TypeParser { chars: text.chars().collect(), at: 0 };
    let data_type = parser.data_type()?;
    parser.skip_spaces();
    if parser.at < parser.chars.len() {
        return Err(format!("unexpected '{}' in type '{text}'", parser.chars[parser.at..].iter().collect::<String>()));
    }
    Ok(data_type)
}

struct TypeParser {
    chars: Vec<char>,
    at: usize,
}

impl TypeParser {
    fn skip_spaces(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn word(&mut self) -> String {
        self.skip_spaces();
        let start = self.at;
        while self.chars.get(self.at).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn eat(&mut self, expected: char) -> bool {
        self.skip_spaces();
        if self.chars.get(self.at) == Some(&expected) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, expected: char) -> Result<(), String> {
        if self.eat(expected) { Ok(()) } else { Err(format!("expected '{expected}' in type")) }
    }

    fn number(&mut self) -> Result<u8, String> {
        let digits = self.word();
        digits.parse().map_err(|_| format!("expected a number in type, got '{digits}'"))
    }

    fn data_type(&mut self) -> Result<DataType, String> {
        let name = self.word().to_ascii_lowercase();
        Ok(match name.as_str() {
            "boolean" | "bool" => DataType::Boolean,
            "tinyint" | "byte" => DataType::Int8,
            "smallint" | "short" => DataType::Int16,
            "int" | "integer" => DataType::Int32,
            "bigint" | "long" => DataType::Int64,
            "float" | "real" => DataType::Float32,
            "double" => DataType::Float64,
            "string" | "text" => DataType::Utf8,
            "varchar" | "char" => {
                if self.eat('(') {
                    self.number()?;
                    self.expect(')')?;
                }
                DataType::Utf8
            }
            "binary" => DataType::Binary,
            "date" => DataType::Date32,
            "timestamp" | "timestamp_ltz" => DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(UTC))),
            "timestamp_ntz" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "decimal" | "dec" | "numeric" => {
                let (mut precision, mut scale) = (10, 0);
                if self.eat('(') {
                    precision = self.number()?;
                    if self.eat(',') {
                        scale = self.number()?;
                    }
                    self.expect(')')?;
                }
                if precision == 0 || precision > 38 || scale > precision {
                    return Err(format!("decimal({precision},{scale}) is out of range: precision 1..38, scale ≤ precision"));
                }
                DataType::Decimal128(precision, scale as i8)
            }
            "array" => {
                self.expect('<')?;
                let element = self.data_type()?;
                self.expect('>')?;
                DataType::List(Arc::new(Field::new("element", element, true)))
            }
            "map" => {
                self.expect('<')?;
                let key = self.data_type()?;
                self.expect(',')?;
                let value = self.data_type()?;
                self.expect('>')?;
                let entries = Field::new("key_value", DataType::Struct(Fields::from(vec![Field::new("key", key, false), Field::new("value", value, true)])), false);
                DataType::Map(Arc::new(entries), false)
            }
            "struct" => {
                self.expect('<')?;
                let mut fields = Vec::new();
                if !self.eat('>') {
                    loop {
                        let name = self.word();
                        if name.is_empty() {
                            return Err("expected a field name in struct type".to_string());
                        }
                        self.eat(':');
                        fields.push(Field::new(name, self.data_type()?, true));
                        if self.eat('>') {
                            break;
                        }
                        self.expect(',')?;
                    }
                }
                DataType::Struct(Fields::from(fields))
            }
            "" => return Err("expected a type name".to_string()),
            other => return Err(format!("unknown type '{other}'")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_text_round_trips_through_the_parser() {
        for text in ["int", "bigint", "string", "decimal(10,2)", "array<int>", "map<string,double>", "struct<a:int,b:array<string>>", "timestamp", "timestamp_ntz", "date", "boolean"] {
            assert_eq!(type_text(&parse_type(text).unwrap()), text);
        }
        assert_eq!(type_text(&parse_type("VARCHAR(20)").unwrap()), "string");
        assert_eq!(type_text(&parse_type("STRUCT<a: INT, b STRING>").unwrap()), "struct<a:int,b:string>");
        assert!(parse_type("decimal(50,2)").unwrap_err().contains("out of range"));
        assert!(parse_type("intt").unwrap_err().contains("unknown type"));
    }

    #[test]
    fn manifest_and_catalog_names_follow_databricks() {
        assert_eq!(manifest_type_name(&DataType::Int64), "LONG");
        assert_eq!(manifest_type_name(&DataType::Int16), "SHORT");
        assert_eq!(manifest_type_text(&DataType::Decimal128(10, 2)), "DECIMAL(10,2)");
        assert_eq!(uc_type_name(&DataType::Timestamp(TimeUnit::Microsecond, None)), "TIMESTAMP_NTZ");
        assert_eq!(spark_type_json(&DataType::Int32), serde_json::json!("integer"));
    }
}

/// Spark types an integer literal that fits in 32 bits as INT, DataFusion as BIGINT: retype
/// them in a freshly planned statement (before type coercion) and recompute the schemas
/// above. An expression that names an output column keeps its name (`count(Int64(1))`),
/// which the nodes above refer to. LIMIT and OFFSET keep theirs, which DataFusion needs as
/// BIGINT.
pub fn spark_integer_literals(plan: datafusion::logical_expr::LogicalPlan) -> datafusion::error::Result<datafusion::logical_expr::LogicalPlan> {
    use datafusion::common::ScalarValue;
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};

    let retype = |expr: Expr| match expr {
        Expr::Literal(ScalarValue::Int64(Some(value)), metadata) if i32::try_from(value).is_ok() => {
            Ok(Transformed::yes(Expr::Literal(ScalarValue::Int32(Some(value as i32)), metadata)))
        }
        other => Ok(Transformed::no(other)),
    };
    plan.transform_up_with_subqueries(|node| {
        if matches!(node, LogicalPlan::Limit(_)) {
            return Ok(Transformed::no(node));
        }
        let names_outputs = matches!(node, LogicalPlan::Projection(_) | LogicalPlan::Aggregate(_) | LogicalPlan::Window(_));
        let node = node.map_expressions(|expr| {
            if matches!(expr, Expr::GroupingSet(_)) {
                return Ok(Transformed::no(expr));
            }
            let name = expr.schema_name().to_string();
            let retyped = expr.transform_up(retype)?;
            if retyped.transformed && names_outputs && !matches!(retyped.data, Expr::Alias(_)) {
                return Ok(Transformed::yes(retyped.data.alias(name)));
            }
            Ok(retyped)
        })?;
        // A node's schema follows its children's, changed or not.
        let plan = match node.data {
            LogicalPlan::Values(values) if node.transformed => LogicalPlanBuilder::values(values.values)?.build()?,
            other => other.recompute_schema()?,
        };
        Ok(Transformed::yes(plan))
    })
    .map(|transformed| transformed.data)
}
