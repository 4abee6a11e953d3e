//! The order go-yaml v2 writes map keys in: a "natural" order where runs of digits compare as
//! numbers (`a9` before `a10`, `9` before `10`) and letters sort before other characters.

use zeroize::Zeroizing;

/// Go's `unicode.IsLetter` (approximated by Unicode's alphabetic property outside ASCII).
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic()
    }
}

/// Go's `unicode.IsDigit` (decimal digits; approximated outside ASCII).
fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        c.is_numeric() && !c.is_alphabetic()
    }
}

/// go-yaml v2's `keyList.Less` for two string keys.
pub(crate) fn key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    for (i, (&ac, &bc)) in ar.iter().zip(br.iter()).enumerate() {
        if ac == bc {
            continue;
        }
        let al = is_letter(ac);
        let bl = is_letter(bc);
        if al && bl {
            return ac < bc;
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ac == '0' || bc == '0' {
            // A zero inside a number (after a nonzero digit) is not a leading zero.
            let mut j = i;
            while j > 0 {
                j -= 1;
                let Some(&d) = ar.get(j) else { break };
                if !is_digit(d) {
                    break;
                }
                if d != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while let Some(&d) = ar.get(ai).filter(|d| is_digit(**d)) {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(d as u32).wrapping_sub('0' as i64));
            ai += 1;
        }
        let mut bi = i;
        while let Some(&d) = br.get(bi).filter(|d| is_digit(**d)) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(d as u32).wrapping_sub('0' as i64));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ac < bc;
    }
    ar.len() < br.len()
}

/// Sorts entries by key with [`key_less`]: a merge sort, which cannot fail whatever the
/// comparison does (the natural order is not a total order on every input).
pub(crate) fn sort_keys<T>(entries: Vec<(Zeroizing<String>, T)>) -> Vec<(Zeroizing<String>, T)> {
    if entries.len() <= 1 {
        return entries;
    }
    let mut entries = entries;
    let right = entries.split_off(entries.len() / 2);
    let left = sort_keys(entries);
    let right = sort_keys(right);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => key_less(&b.0, &a.0),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        if let Some(e) = next {
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_in_go_yaml_natural_order() {
        let keys = [
            "a10", "a9", "B", "a", "1", "10", "9", "list", "_x", "a01", "a1", "a_b", "ab",
        ];
        let sorted = sort_keys(keys.iter().map(|k| (Zeroizing::new(k.to_string()), ())).collect());
        let got: Vec<&str> = sorted.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            got,
            [
                "_x", "1", "9", "10", "B", "a", "a_b", "a1", "a01", "a9", "a10", "ab", "list"
            ]
        );
    }
}
