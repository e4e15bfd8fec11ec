//! A corpus of orders whose personal values are distinctive strings, for tests that
//! scan raw database bytes and responses for leaks.

use ordervault::connectors::{Address, Customer, Order, PickupPoint};

use super::order;

/// `n` orders and every personal value they carry (each at least 6 characters).
pub fn corpus(n: usize) -> (Vec<Order>, Vec<String>) {
    let mut orders = Vec::with_capacity(n);
    let mut values = Vec::new();
    for i in 0..n {
        let mut o = order(&format!("LEAK-{i:04}"), 0);
        let first = format!("Wilhelmina{i}x");
        let last = format!("Vandersloot{i}q");
        let street = format!("Prinsengrachtweg{i}z");
        let city = format!("Zoetermeerstad{i}k");
        let postcode = format!("{:04}QX", 1000 + i);
        let email = format!("Geheime.Klant{i}@Voorbeeld-Mail.nl");
        let phone = format!("+3161{:07}", 4_400_000 + i);
        let company = format!("Vandersloot Handel {i} BV");
        let vat = format!("NL{:09}B77", 800_000_000 + i);
        let notes = format!("Achterdeur gebruiken {i} alstublieft");
        let full = format!("Hendrika{i}w Oosterbeek{i}j");
        let coc = format!("KVK{:08}", 61_000_000 + i);
        let billing_email = format!("Factuur.Adres{i}@Boekhouding-Mail.nl");
        let username = format!("koper_gebruiker_{i}y");
        let point = format!("Afhaalpunt Tulpenhof{i}v");
        let point_street = format!("Ophaalsteeg{i}u");
        o.customer = Customer {
            email: Some(email.as_str().into()),
            phone: Some(phone.as_str().into()),
            shipping: Some(Address {
                first_name: Some(first.as_str().into()),
                last_name: Some(last.as_str().into()),
                street: Some(street.as_str().into()),
                house_number: Some(format!("{}", 100 + i).into()),
                postcode: Some(postcode.as_str().into()),
                city: Some(city.as_str().into()),
                country_code: Some("NL".into()),
                ..Default::default()
            }),
            billing: Some(Address {
                full_name: Some(full.as_str().into()),
                company: Some(company.as_str().into()),
                vat_id: Some(vat.as_str().into()),
                coc_number: Some(coc.as_str().into()),
                ..Default::default()
            }),
            delivery_notes: Some(notes.as_str().into()),
            billing_email: Some(billing_email.as_str().into()),
            buyer_username: Some(username.as_str().into()),
            pickup_point: Some(PickupPoint {
                name: Some(point.as_str().into()),
                address: Some(Address {
                    street: Some(point_street.as_str().into()),
                    ..Default::default()
                }),
            }),
        };
        o.terms.pickup_point = true;
        values.extend([
            first,
            last,
            street,
            city,
            postcode,
            email,
            phone,
            company,
            vat,
            notes,
            full,
            coc,
            billing_email,
            username,
            point,
            point_street,
        ]);
        orders.push(o);
    }
    (orders, values)
}

/// Every form of a personal value a leak could take: as is, lower case, and hex.
pub fn forms(value: &str) -> Vec<Vec<u8>> {
    vec![
        value.as_bytes().to_vec(),
        value.to_lowercase().into_bytes(),
        hex::encode(value.as_bytes()).into_bytes(),
    ]
}

/// The personal values (in any of their forms) found in `haystack`.
pub fn leaks(haystack: &[u8], values: &[String]) -> Vec<String> {
    values
        .iter()
        .filter(|v| {
            forms(v)
                .iter()
                .any(|f| memchr::memmem::find(haystack, f).is_some())
        })
        .cloned()
        .collect()
}
