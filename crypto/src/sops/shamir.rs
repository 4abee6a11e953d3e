//! Shamir secret sharing over GF(2^8), byte-compatible with the shares sops writes
//! (`shamir/shamir.go`, from HashiCorp Vault): each share is the y-values followed by
//! one byte, its x-coordinate (1-based group index).

use rand::RngCore;
use zeroize::Zeroizing;

/// Why shares cannot be made or combined.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShamirError {
    /// Bad split parameters.
    #[error("invalid Shamir parameters: {0}")]
    Parameters(&'static str),
    /// The shares do not fit together.
    #[error("invalid Shamir shares: {0}")]
    Shares(&'static str),
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, branch-free.
fn mul(a: u8, b: u8) -> u8 {
    let mut acc: u8 = 0;
    for i in (0..8).rev() {
        let bit = (b >> i) & 1;
        let a_or_zero = bit.wrapping_neg() & a;
        let reduce = (acc >> 7).wrapping_neg() & 0x1b;
        acc = a_or_zero ^ (reduce ^ acc.wrapping_add(acc));
    }
    acc
}

/// a^254 = a^-1 in GF(2^8).
fn inverse(a: u8) -> u8 {
    let mut b = mul(a, a);
    let mut c = mul(a, b);
    b = mul(c, c);
    b = mul(b, b);
    c = mul(b, c);
    b = mul(b, b);
    b = mul(b, b);
    b = mul(b, c);
    b = mul(b, b);
    b = mul(a, b);
    mul(b, b)
}

/// Splits `secret` into `parts` shares, any `threshold` of which recover it.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<Zeroizing<Vec<u8>>>, ShamirError> {
    if parts < threshold {
        return Err(ShamirError::Parameters("parts cannot be less than threshold"));
    }
    if parts > 255 || threshold > 255 {
        return Err(ShamirError::Parameters("parts and threshold cannot exceed 255"));
    }
    if threshold < 2 {
        return Err(ShamirError::Parameters("threshold must be at least 2"));
    }
    if secret.is_empty() {
        return Err(ShamirError::Parameters("cannot split an empty secret"));
    }
    let mut out: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|i| {
            let mut share = vec![0u8; secret.len() + 1];
            share[secret.len()] = i as u8 + 1;
            Zeroizing::new(share)
        })
        .collect();
    let mut coeffs = Zeroizing::new(vec![0u8; threshold]);
    for (idx, &byte) in secret.iter().enumerate() {
        coeffs[0] = byte;
        rand::rngs::OsRng.fill_bytes(&mut coeffs[1..]);
        for (i, share) in out.iter_mut().enumerate() {
            let x = i as u8 + 1;
            // Horner's rule from the highest coefficient down.
            let mut y = coeffs[threshold - 1];
            for c in coeffs[..threshold - 1].iter().rev() {
                y = mul(y, x) ^ c;
            }
            share[idx] = y;
        }
    }
    Ok(out)
}

/// Recovers the secret from shares (at least two; all are used, as sops does).
pub fn combine(parts: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, ShamirError> {
    if parts.len() < 2 {
        return Err(ShamirError::Shares(
            "less than two parts cannot be used to reconstruct the secret",
        ));
    }
    let len = parts[0].len();
    if len < 2 {
        return Err(ShamirError::Shares("parts must be at least two bytes"));
    }
    if parts.iter().any(|p| p.len() != len) {
        return Err(ShamirError::Shares("all parts must be the same length"));
    }
    let xs: Vec<u8> = parts.iter().map(|p| p[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err(ShamirError::Shares("duplicate part detected"));
        }
    }
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (idx, out) in secret.iter_mut().enumerate() {
        // Lagrange interpolation at x = 0.
        let mut result = 0u8;
        for (i, part) in parts.iter().enumerate() {
            let mut basis = 1u8;
            for (j, xj) in xs.iter().enumerate() {
                if i != j {
                    basis = mul(basis, mul(*xj, inverse(xs[i] ^ xj)));
                }
            }
            result ^= mul(part[idx], basis);
        }
        *out = result;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_inverse() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1, "{a}");
        }
    }

    #[test]
    fn any_threshold_subset_recovers() {
        let secret = [42u8; 32];
        let shares = split(&secret, 3, 2).unwrap();
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            let got = combine(&[&shares[a], &shares[b]]).unwrap();
            assert_eq!(&got[..], &secret);
        }
        let all = combine(&[&shares[0], &shares[1], &shares[2]]).unwrap();
        assert_eq!(&all[..], &secret);
    }
}
