//! Field encryption throughput: one 300-byte customer record (the JSON of a shipping
//! address plus email and phone) sealed and opened with AES-256-SIV, as the store does
//! for every order it writes or reads. Goal: ≥ 300,000 records/s per core.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ordervault::crypto::{AccountKey, FieldContext};

fn record() -> Vec<u8> {
    let r = br#"{"first_name":"Anna","last_name":"de Vries","street":"Kerkstraat","house_number":"12","house_number_ext":"bis","postcode":"3511 AB","city":"Utrecht","country_code":"NL","email":"anna.devries.4711@example.com","phone":"+31612345678","notes":"Bel aan bij de buren, pakket achterlaten bij nummer 14 als niemand thuis is."}"#;
    let mut v = r.to_vec();
    v.resize(300, b' ');
    v
}

fn bench(c: &mut Criterion) {
    let keys = AccountKey::generate(1).subkeys("0123456789abcdef");
    let ctx = FieldContext {
        table: "orders",
        column: "shipping",
        row: "bol/1043946570",
    };
    let plain = record();
    let mut g = c.benchmark_group("field_encryption_300B");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encrypt", |b| b.iter(|| keys.fields.encrypt(ctx, &plain)));
    let ct = keys.fields.encrypt(ctx, &plain);
    g.bench_function("decrypt", |b| {
        b.iter(|| keys.fields.decrypt(ctx, &ct).expect("decrypts"))
    });
    g.bench_function("email_blind_index", |b| {
        b.iter_batched(
            || "Anna.deVries.4711@Example.com ",
            |e| keys.email_index.index(e),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
