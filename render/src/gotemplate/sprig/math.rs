//! sprig's arithmetic: the `int64` family (`add`, `sub`, `mul`, `div`, `mod`, `max`, `min`,
//! `add1`, `randInt`), the `float64` family done in decimal as shopspring/decimal does
//! (`addf`, `subf`, `mulf`, `divf`, `add1f`), and `maxf`, `minf`, `ceil`, `floor`, `round`.

use super::args;
use super::cast::{to_float64, to_int64};
use super::{f, fv};
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};

const DIV_ZERO: &str = "runtime error: integer divide by zero";

/// Registers the arithmetic functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, Float64, Int};
    m.insert(
        "add1",
        f(&[Any], |a| Ok(Value::Int64(to_int64(args::any(a, 0)).wrapping_add(1)))),
    );
    m.insert(
        "add",
        fv(&[], Any, |a| {
            Ok(Value::Int64(a.iter().map(to_int64).fold(0, i64::wrapping_add)))
        }),
    );
    m.insert(
        "sub",
        f(&[Any, Any], |a| Ok(Value::Int64(int(a, 0).wrapping_sub(int(a, 1))))),
    );
    m.insert(
        "mul",
        fv(&[Any], Any, |a| {
            Ok(Value::Int64(a.iter().map(to_int64).fold(1, i64::wrapping_mul)))
        }),
    );
    m.insert(
        "div",
        f(&[Any, Any], |a| match int(a, 1) {
            0 => Err(DIV_ZERO.to_owned()),
            d => Ok(Value::Int64(int(a, 0).wrapping_div(d))),
        }),
    );
    m.insert(
        "mod",
        f(&[Any, Any], |a| match int(a, 1) {
            0 => Err(DIV_ZERO.to_owned()),
            d => Ok(Value::Int64(int(a, 0).wrapping_rem(d))),
        }),
    );
    for name in ["max", "biggest"] {
        m.insert(
            name,
            fv(&[Any], Any, |a| {
                Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
            }),
        );
    }
    m.insert(
        "min",
        fv(&[Any], Any, |a| {
            Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
        }),
    );
    m.insert(
        "randInt",
        f(&[Int, Int], |a| {
            let (lo, hi) = (args::int(a, 0)?, args::int(a, 1)?);
            let n = hi.wrapping_sub(lo);
            if n <= 0 {
                return Err("invalid argument to Intn".to_owned());
            }
            Ok(Value::Int(super::random::below(n as u64)? as i64 + lo))
        }),
    );
    m.insert(
        "add1f",
        f(&[Any], |a| decimal_op(args::any(a, 0), &[Value::Int(1)], Op::Add)),
    );
    m.insert("addf", fv(&[], Any, |a| decimal_op(&Value::Float(0.0), a, Op::Add)));
    m.insert(
        "subf",
        fv(&[Any], Any, |a| {
            decimal_op(args::any(a, 0), a.get(1..).unwrap_or_default(), Op::Sub)
        }),
    );
    m.insert(
        "mulf",
        fv(&[Any], Any, |a| {
            decimal_op(args::any(a, 0), a.get(1..).unwrap_or_default(), Op::Mul)
        }),
    );
    m.insert(
        "divf",
        fv(&[Any], Any, |a| {
            decimal_op(args::any(a, 0), a.get(1..).unwrap_or_default(), Op::Div)
        }),
    );
    m.insert(
        "maxf",
        fv(&[Any], Any, |a| {
            Ok(Value::Float(a.iter().map(to_float64).fold(f64::NEG_INFINITY, go_max)))
        }),
    );
    m.insert(
        "minf",
        fv(&[Any], Any, |a| {
            Ok(Value::Float(a.iter().map(to_float64).fold(f64::INFINITY, go_min)))
        }),
    );
    m.insert(
        "ceil",
        f(&[Any], |a| Ok(Value::Float(to_float64(args::any(a, 0)).ceil()))),
    );
    m.insert(
        "floor",
        f(&[Any], |a| Ok(Value::Float(to_float64(args::any(a, 0)).floor()))),
    );
    m.insert("round", fv(&[Any, Int], Float64, round));
}

fn int(a: &[Value], i: usize) -> i64 {
    to_int64(args::any(a, i))
}

/// Go's `math.Max` (NaN wins).
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() { f64::NAN } else { x.max(y) }
}

/// Go's `math.Min` (NaN wins).
fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() { f64::NAN } else { x.min(y) }
}

fn round(a: &[Value]) -> Result<Value, String> {
    let val = to_float64(args::any(a, 0));
    let places = args::int(a, 1)? as f64;
    let round_on = match a.get(2) {
        Some(Value::Float(r)) => *r,
        Some(other) => to_float64(other),
        None => 0.5,
    };
    let pow = 10f64.powf(places);
    let digit = pow * val;
    let frac = if digit.is_infinite() {
        0.0
    } else {
        digit - digit.trunc()
    };
    let r = if frac >= round_on { digit.ceil() } else { digit.floor() };
    Ok(Value::Float(r / pow))
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A decimal `mant × 10^exp`, as shopspring/decimal holds one (here in 128 bits; results
/// beyond that fall back to `float64` arithmetic).
#[derive(Clone, Copy)]
struct Dec {
    mant: i128,
    exp: i32,
}

impl Dec {
    /// `decimal.NewFromFloat`: the shortest decimal that reads back as `f`.
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let e = format!("{f:e}");
        let (m, x) = e.split_once('e')?;
        let exp: i32 = x.parse().ok()?;
        let (int, frac) = m.split_once('.').unwrap_or((m, ""));
        let mant: i128 = format!("{int}{frac}").parse().ok()?;
        Some(Dec {
            mant,
            exp: exp - frac.len() as i32,
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mant, self.exp).parse().unwrap_or(f64::NAN)
    }

    fn rescale(self, exp: i32) -> Option<i128> {
        let shift = u32::try_from(self.exp - exp).ok()?;
        self.mant.checked_mul(10i128.checked_pow(shift)?)
    }

    fn apply(self, op: Op, other: Dec) -> Option<Dec> {
        match op {
            Op::Add | Op::Sub => {
                let exp = self.exp.min(other.exp);
                let (x, y) = (self.rescale(exp)?, other.rescale(exp)?);
                let mant = if matches!(op, Op::Add) {
                    x.checked_add(y)?
                } else {
                    x.checked_sub(y)?
                };
                Some(Dec { mant, exp })
            }
            Op::Mul => Some(Dec {
                mant: self.mant.checked_mul(other.mant)?,
                exp: self.exp.checked_add(other.exp)?,
            }),
            Op::Div => {
                // `Div` rounds the quotient to 16 decimal places, halves away from zero.
                let k = self.exp - other.exp + 16;
                let (num, den) = if k >= 0 {
                    (self.mant.checked_mul(10i128.checked_pow(k as u32)?)?, other.mant)
                } else {
                    (self.mant, other.mant.checked_mul(10i128.checked_pow((-k) as u32)?)?)
                };
                let (mut q, r) = (num / den, num % den);
                if r.unsigned_abs().checked_mul(2)? >= den.unsigned_abs() {
                    q += if (num < 0) != (den < 0) { -1 } else { 1 };
                }
                Some(Dec { mant: q, exp: -16 })
            }
        }
    }
}

/// sprig's `execDecimalOp`: every operand through `float64` into a decimal, the operation
/// in decimal, the result back to `float64`.
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> Result<Value, String> {
    let mut acc_f = to_float64(first);
    let mut acc = Dec::from_f64(acc_f);
    for v in rest {
        let x = to_float64(v);
        if matches!(op, Op::Div) && x == 0.0 {
            return Err("decimal division by 0".to_owned());
        }
        acc = match (acc, Dec::from_f64(x)) {
            (Some(a), Some(b)) => a.apply(op, b),
            _ => None,
        };
        acc_f = match acc {
            Some(d) => d.to_f64(),
            None => match op {
                Op::Add => acc_f + x,
                Op::Sub => acc_f - x,
                Op::Mul => acc_f * x,
                Op::Div => acc_f / x,
            },
        };
        if acc.is_none() {
            acc = Dec::from_f64(acc_f);
        }
    }
    Ok(Value::Float(acc_f))
}

#[cfg(test)]
mod tests {
    use crate::gotemplate::value::Value;

    use crate::gotemplate::sprig::call;

    #[test]
    fn arithmetic_matches_the_oracle() {
        let i = Value::Int;
        let fl = Value::Float;
        let s = Value::str;
        for (name, a, want) in [
            ("add", vec![i(1), s("2"), fl(3.7)], "6"),
            ("add", vec![], "0"),
            ("mul", vec![i(2)], "2"),
            ("sub", vec![i(5), fl(1.5)], "4"),
            ("max", vec![i(1), i(5), s("7")], "7"),
            ("min", vec![i(3)], "3"),
            ("addf", vec![fl(1.1), fl(2.2)], "3.3"),
            ("subf", vec![i(1), fl(0.9)], "0.1"),
            ("mulf", vec![fl(1.1), i(3)], "3.3"),
            ("divf", vec![i(1), i(3)], "0.3333333333333333"),
            ("divf", vec![i(2), i(3)], "0.6666666666666667"),
            ("divf", vec![i(2), i(7)], "0.2857142857142857"),
            ("divf", vec![i(-2), i(3)], "-0.6666666666666667"),
            ("add1f", vec![fl(0.1)], "1.1"),
            ("round", vec![fl(2.555), i(2)], "2.56"),
            ("round", vec![fl(2.5), i(0)], "3"),
            ("round", vec![fl(-2.5), i(0)], "-3"),
            ("round", vec![fl(1.234), i(1), fl(0.3)], "1.3"),
            ("ceil", vec![s("1.2")], "2"),
            ("floor", vec![fl(-1.5)], "-2"),
            ("maxf", vec![i(1), fl(2.5)], "2.5"),
            ("divf", vec![i(10), i(4)], "2.5"),
            ("mulf", vec![fl(0.1), fl(0.2)], "0.02"),
            ("addf", vec![], "0"),
            ("divf", vec![fl(1e300), fl(1e-300)], "+Inf"),
            ("mulf", vec![fl(1e200), fl(1e200)], "+Inf"),
        ] {
            assert_eq!(call(name, &a).as_deref(), Ok(want), "{name}");
        }
        for (name, a, want) in [
            ("div", vec![i(1), i(0)], "runtime error: integer divide by zero"),
            ("mod", vec![i(1), i(0)], "runtime error: integer divide by zero"),
            ("divf", vec![i(1), i(0)], "decimal division by 0"),
            ("randInt", vec![i(5), i(5)], "invalid argument to Intn"),
        ] {
            assert_eq!(call(name, &a), Err(want.to_owned()), "{name}");
        }
        let r = call("randInt", &[i(3), i(5)]);
        assert!(matches!(r.as_deref(), Ok("3" | "4")), "{r:?}");
    }
}
