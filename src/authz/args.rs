//! A call's JSON arguments as a Cedar record, exactly or not at all.
//!
//! Objects become records (keys as they are: no case folding, no Unicode normalisation, so
//! `amount` and `ａmount` are two keys and the second is not one the schema declares), strings
//! stay strings, booleans stay booleans, and numbers become Cedar `decimal`s — which have four
//! digits after the point and a range of ±922337203685477.5807. A number is converted from its
//! shortest round-trip decimal form (the number an SDK server reads, as an IEEE double): one
//! with more than four fractional digits (`500.00001`), an exponent (`1e300`), a negative zero
//! (`-0`), or beyond the range (huge integers) is **not representable**, and the call is
//! denied. An array is a Cedar `Set` when the pinned schema declares it `array` with `items`
//! of one scalar type (`string`, `number`/`integer`, `boolean`), every element has that type
//! and none repeats: a set has no order and no repeats, so `["a","a"]` would be `["a"]` and a
//! policy could not see what the server gets — refusing repeats leaves only the order lost,
//! which no Cedar set operation can ask about. Any other array (one the pin declares a string,
//! nested arrays, arrays of objects, mixed or unrepresentable elements) is denied. `null` is
//! denied (it is neither absent nor a value Cedar has). Every argument must be one the pinned
//! schema declares, with the type it declares.

use std::collections::BTreeMap;

use cedar_policy::RestrictedExpression;
use serde_json::{Map, Number, Value, json};

/// Deepest nesting of records followed (a pinned schema deeper than this is not representable).
pub const MAX_DEPTH: usize = 16;

/// The Cedar type an argument must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Decimal,
    Bool,
    Record(BTreeMap<String, ArgType>),
    /// A JSON array whose pinned schema declares `items` of one scalar type: a Cedar set of
    /// that type (no repeated element, so only the order is lost).
    Set(Box<ArgType>),
}

impl ArgType {
    /// The type a pinned JSON Schema property gives, if Cedar can hold it.
    pub fn from_json_schema(s: &Value, depth: usize) -> Option<ArgType> {
        if depth > MAX_DEPTH {
            return None;
        }
        match s.get("type").and_then(Value::as_str)? {
            "string" => Some(ArgType::String),
            "number" | "integer" => Some(ArgType::Decimal),
            "boolean" => Some(ArgType::Bool),
            "array" => {
                // One scalar element type, declared as a schema object (not the tuple form):
                // a set of records or of sets is not representable (a policy could not say
                // which element a condition is about), nor is an array without `items`.
                let items = s.get("items").filter(|i| i.is_object())?;
                match ArgType::from_json_schema(items, depth + 1)? {
                    t @ (ArgType::String | ArgType::Decimal | ArgType::Bool) => {
                        Some(ArgType::Set(Box::new(t)))
                    }
                    ArgType::Record(_) | ArgType::Set(_) => None,
                }
            }
            "object" => {
                let props = s.get("properties").and_then(Value::as_object)?;
                Some(ArgType::Record(
                    props
                        .iter()
                        .filter_map(|(k, v)| {
                            ArgType::from_json_schema(v, depth + 1).map(|t| (k.clone(), t))
                        })
                        .collect(),
                ))
            }
            _ => None,
        }
    }

    /// This type in Cedar's JSON schema format (`optional`: an attribute a value may lack).
    pub fn schema(&self, top: bool) -> Value {
        let mut v = self.schema_type();
        if !top {
            v["required"] = json!(false);
        }
        v
    }

    fn schema_type(&self) -> Value {
        match self {
            ArgType::String => json!({"type": "String"}),
            ArgType::Decimal => json!({"type": "Extension", "name": "decimal"}),
            ArgType::Bool => json!({"type": "Boolean"}),
            ArgType::Record(m) => {
                let attrs: Map<String, Value> = m
                    .iter()
                    .map(|(k, t)| (k.clone(), t.schema(false)))
                    .collect();
                json!({"type": "Record", "attributes": attrs})
            }
            ArgType::Set(t) => json!({"type": "Set", "element": t.schema_type()}),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            ArgType::String => "a string",
            ArgType::Decimal => "a number",
            ArgType::Bool => "a boolean",
            ArgType::Record(_) => "an object",
            ArgType::Set(t) => match **t {
                ArgType::String => "an array of strings",
                ArgType::Decimal => "an array of numbers",
                _ => "an array of booleans",
            },
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The Cedar `decimal` text of a JSON number, or why it has none.
pub fn decimal_text(n: &Number) -> Result<String, String> {
    // Cedar: i64 ten-thousandths.
    const MAX_UNITS: i128 = i64::MAX as i128;
    let text = n.to_string();
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.as_str()),
    };
    if body.contains(['e', 'E']) {
        return Err(format!(
            "the number {text} has no exact Cedar decimal (an exponent: beyond 4 fractional digits or the range ±922337203685477.5807)"
        ));
    }
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let frac = frac.trim_end_matches('0');
    if frac.len() > 4 {
        return Err(format!(
            "the number {text} has more than 4 digits after the point: Cedar decimals cannot hold it exactly"
        ));
    }
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 19 {
        return Err(format!(
            "the number {text} is beyond the Cedar decimal range ±922337203685477.5807"
        ));
    }
    let int_v: i128 = int
        .parse()
        .map_err(|_| format!("the number {text} is not a decimal"))?;
    let frac_v: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<4}")
            .parse()
            .map_err(|_| format!("the number {text} is not a decimal"))?
    };
    let units = int_v * 10_000 + frac_v;
    if units > MAX_UNITS {
        return Err(format!(
            "the number {text} is beyond the Cedar decimal range ±922337203685477.5807"
        ));
    }
    if neg && units == 0 {
        return Err(
            "the number -0 is a negative zero: it has no Cedar decimal distinct from 0".into(),
        );
    }
    let frac = if frac.is_empty() { "0" } else { frac };
    Ok(format!("{}{int_v}.{frac}", if neg { "-" } else { "" }))
}

fn convert(
    v: &Value,
    ty: &ArgType,
    at: &str,
    depth: usize,
) -> Result<RestrictedExpression, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "argument {at} is nested deeper than {MAX_DEPTH} objects"
        ));
    }
    let mismatch = || {
        format!(
            "argument {at} is {}, but the pinned schema makes it {}",
            json_kind(v),
            ty.name()
        )
    };
    match (ty, v) {
        (ArgType::String, Value::String(s)) => Ok(RestrictedExpression::new_string(s.clone())),
        (ArgType::Bool, Value::Bool(b)) => Ok(RestrictedExpression::new_bool(*b)),
        (ArgType::Decimal, Value::Number(n)) => decimal_text(n)
            .map(RestrictedExpression::new_decimal)
            .map_err(|e| format!("argument {at}: {e}")),
        (ArgType::Record(fields), Value::Object(o)) => record(o, fields, at, depth + 1),
        (ArgType::Set(t), Value::Array(items)) => set(items, t, at, depth + 1),
        _ => Err(mismatch()),
    }
}

/// An array as a Cedar set of scalars. A repeated element (by its Cedar value: `1` and `1.0`
/// are one decimal) is refused, so the set has exactly as many elements as the array and the
/// only thing lost is the order — which no Cedar set operation can ask about.
fn set(
    items: &[Value],
    ty: &ArgType,
    at: &str,
    depth: usize,
) -> Result<RestrictedExpression, String> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        let path = format!("{at}[{i}]");
        let key = match (ty, v) {
            (ArgType::String, Value::String(s)) => format!("s{s}"),
            (ArgType::Bool, Value::Bool(b)) => format!("b{b}"),
            (ArgType::Decimal, Value::Number(n)) => {
                format!(
                    "d{}",
                    decimal_text(n).map_err(|e| format!("argument {path}: {e}"))?
                )
            }
            _ => {
                return Err(format!(
                    "argument {path} is {}, but the pinned schema makes its elements {}",
                    json_kind(v),
                    ty.name()
                ));
            }
        };
        if !seen.insert(key) {
            return Err(format!(
                "argument {at} repeats the element at [{i}]: a Cedar set cannot hold it twice, so a policy could not see what the server gets"
            ));
        }
        out.push(convert(v, ty, &path, depth)?);
    }
    Ok(RestrictedExpression::new_set(out))
}

fn record(
    o: &Map<String, Value>,
    fields: &BTreeMap<String, ArgType>,
    at: &str,
    depth: usize,
) -> Result<RestrictedExpression, String> {
    let mut out = Vec::with_capacity(o.len());
    for (k, v) in o {
        let path = if at.is_empty() {
            format!("{k:?}")
        } else {
            format!("{at}.{k:?}")
        };
        let Some(ty) = fields.get(k) else {
            return Err(format!(
                "argument {path} is not declared in the pinned schema with a type Cedar can hold ({})",
                json_kind(v)
            ));
        };
        out.push((k.clone(), convert(v, ty, &path, depth)?));
    }
    RestrictedExpression::new_record(out).map_err(|e| format!("arguments {at}: {e}"))
}

/// A call's arguments as a Cedar record, checked against the declared argument types.
pub fn to_record(
    o: &Map<String, Value>,
    types: Option<&BTreeMap<String, ArgType>>,
) -> Result<RestrictedExpression, String> {
    let empty = BTreeMap::new();
    record(o, types.unwrap_or(&empty), "", 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<String, String> {
        let v: Value = crate::json::parse_strict(s.as_bytes()).unwrap();
        decimal_text(v.as_number().unwrap())
    }

    #[test]
    fn representable_numbers_become_exact_decimals() {
        assert_eq!(num("499.99").unwrap(), "499.99");
        assert_eq!(num("500").unwrap(), "500.0");
        assert_eq!(num("500.0").unwrap(), "500.0");
        assert_eq!(num("500.01").unwrap(), "500.01");
        assert_eq!(num("-3.5").unwrap(), "-3.5");
        assert_eq!(num("0.0001").unwrap(), "0.0001");
        assert_eq!(num("0").unwrap(), "0.0");
        assert_eq!(num("922337203685477").unwrap(), "922337203685477.0");
    }

    #[test]
    fn numbers_cedar_cannot_hold_exactly_are_refused() {
        for s in [
            "500.00001",
            "1e300",
            "-1e300",
            "0.00001",
            "922337203685478",
            "18446744073709551615",
            "-9223372036854775808",
            "1e16",
            "123456789012345678901234567890",
        ] {
            assert!(
                num(s).is_err(),
                "{s} must not be representable: {:?}",
                num(s)
            );
        }
    }

    #[test]
    fn negative_zero_is_refused_in_every_spelling() {
        for s in ["-0", "-0.0", "-0.00000"] {
            assert!(num(s).is_err(), "{s}: {:?}", num(s));
        }
    }
}
