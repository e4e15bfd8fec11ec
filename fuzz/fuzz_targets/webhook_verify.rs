//! Webhook signatures: `secret_key` and `verify` on arbitrary secrets, ids, timestamps,
//! bodies and headers never panic; a signature made by `sign` always verifies, and a
//! different body never does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ordervault::forward::signing::{secret_key, sign, verify};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.splitn(4, '\n').collect();
    let get = |i: usize| parts.get(i).copied().unwrap_or("");
    let _ = secret_key(get(0));
    let key = &data[..data.len().min(32)];
    let ts = i64::from_le_bytes({
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(data) {
            *d = *s;
        }
        b
    });
    let (id, header, body) = (get(1), get(2), get(3).as_bytes());
    let _ = verify(key, id, ts, body, header);
    let sig = sign(key, id, ts, body);
    assert!(verify(key, id, ts, body, &sig));
    assert!(verify(key, id, ts, body, &format!("v1,bogus {sig}")));
    let mut other = body.to_vec();
    other.push(b'x');
    assert!(!verify(key, id, ts, &other, &sig));
});
