//! Per-field merge of a customer's personal data across payloads.
//!
//! Marketplaces blank personal data over time (eBay keeps only city, postcode and country
//! after 90 days; Amazon drops the phone after delivery and everything restricted without
//! a data token; bol stops sending billing details). The rule, field by field: a value the
//! later payload carries (non-blank) replaces the stored one; an absent or blank value
//! keeps it. Nothing here ever logs or prints a value.

use super::{Address, Customer, PersonalText, PickupPoint};

fn field(stored: &mut Option<PersonalText>, later: Option<PersonalText>) {
    if let Some(v) = later.filter(|v| !v.trim().is_empty()) {
        *stored = Some(v);
    }
}

fn address(stored: &mut Option<Address>, later: Option<Address>) {
    let Some(later) = later else { return };
    match stored {
        None => {
            let mut fresh = Address::default();
            fresh.merge(later);
            if fresh != Address::default() {
                *stored = Some(fresh);
            }
        }
        Some(s) => s.merge(later),
    }
}

impl Address {
    /// Takes every field `later` carries; keeps the rest.
    pub fn merge(&mut self, later: Address) {
        let Address {
            salutation,
            full_name,
            first_name,
            last_name,
            company,
            street,
            house_number,
            house_number_ext,
            extra,
            extra2,
            postcode,
            city,
            state,
            country_code,
            vat_id,
            coc_number,
        } = later;
        field(&mut self.salutation, salutation);
        field(&mut self.full_name, full_name);
        field(&mut self.first_name, first_name);
        field(&mut self.last_name, last_name);
        field(&mut self.company, company);
        field(&mut self.street, street);
        field(&mut self.house_number, house_number);
        field(&mut self.house_number_ext, house_number_ext);
        field(&mut self.extra, extra);
        field(&mut self.extra2, extra2);
        field(&mut self.postcode, postcode);
        field(&mut self.city, city);
        field(&mut self.state, state);
        field(&mut self.country_code, country_code);
        field(&mut self.vat_id, vat_id);
        field(&mut self.coc_number, coc_number);
    }
}

impl PickupPoint {
    /// Takes every field `later` carries; keeps the rest.
    pub fn merge(&mut self, later: PickupPoint) {
        let PickupPoint {
            name,
            address: later_address,
        } = later;
        field(&mut self.name, name);
        address(&mut self.address, later_address);
    }
}

impl Customer {
    /// Takes every field `later` carries; keeps the rest (see the module doc).
    pub fn merge(&mut self, later: Customer) {
        let Customer {
            email,
            phone,
            shipping,
            billing,
            delivery_notes,
            billing_email,
            buyer_username,
            pickup_point,
        } = later;
        field(&mut self.email, email);
        field(&mut self.phone, phone);
        address(&mut self.shipping, shipping);
        address(&mut self.billing, billing);
        field(&mut self.delivery_notes, delivery_notes);
        field(&mut self.billing_email, billing_email);
        field(&mut self.buyer_username, buyer_username);
        if let Some(later) = pickup_point {
            match &mut self.pickup_point {
                Some(p) => p.merge(later),
                None => {
                    let mut fresh = PickupPoint::default();
                    fresh.merge(later);
                    if fresh != PickupPoint::default() {
                        self.pickup_point = Some(fresh);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Customer {
        Customer {
            email: Some("a1b2@members.ebay.com".into()),
            phone: Some("+31612345678".into()),
            shipping: Some(Address {
                full_name: Some("Anna de Vries".into()),
                company: Some("de Vries Handel B.V.".into()),
                street: Some("Kerkstraat".into()),
                house_number: Some("12".into()),
                house_number_ext: Some("A".into()),
                extra: Some("Bus 3".into()),
                extra2: Some("3e verdieping".into()),
                postcode: Some("3511 AB".into()),
                city: Some("Utrecht".into()),
                state: Some("UT".into()),
                country_code: Some("NL".into()),
                vat_id: Some("NL123456789B01".into()),
                coc_number: Some("99887766".into()),
                salutation: Some("MALE".into()),
                first_name: Some("Anna".into()),
                last_name: Some("de Vries".into()),
            }),
            billing: Some(Address {
                full_name: Some("Piet Post".into()),
                ..Address::default()
            }),
            delivery_notes: Some("Bel aan".into()),
            billing_email: Some("bill@verkopen.bol.com".into()),
            buyer_username: Some("anna_nl".into()),
            pickup_point: Some(PickupPoint {
                name: Some("PostNL punt Jumbo".into()),
                address: Some(Address {
                    street: Some("Markt".into()),
                    ..Address::default()
                }),
            }),
        }
    }

    #[test]
    fn an_empty_or_blank_payload_keeps_every_field() {
        let mut c = full();
        c.merge(Customer::default());
        assert_eq!(c, full());
        let blank = || Some(PersonalText::from("  "));
        let mut c = full();
        c.merge(Customer {
            email: blank(),
            phone: blank(),
            shipping: Some(Address {
                full_name: blank(),
                street: blank(),
                house_number: blank(),
                vat_id: blank(),
                coc_number: blank(),
                ..Address::default()
            }),
            billing: Some(Address::default()),
            delivery_notes: blank(),
            billing_email: blank(),
            buyer_username: blank(),
            pickup_point: Some(PickupPoint {
                name: blank(),
                address: Some(Address::default()),
            }),
        });
        assert_eq!(c, full());
    }

    #[test]
    fn each_changed_field_replaces_only_itself() {
        let mut c = full();
        c.merge(Customer {
            shipping: Some(Address {
                city: Some("Amsterdam".into()),
                house_number_ext: Some("B".into()),
                ..Address::default()
            }),
            pickup_point: Some(PickupPoint {
                name: Some("DHL ServicePoint".into()),
                address: None,
            }),
            buyer_username: Some("anna_2".into()),
            ..Customer::default()
        });
        let mut want = full();
        let s = want.shipping.as_mut().unwrap();
        s.city = Some("Amsterdam".into());
        s.house_number_ext = Some("B".into());
        want.pickup_point.as_mut().unwrap().name = Some("DHL ServicePoint".into());
        want.buyer_username = Some("anna_2".into());
        assert_eq!(c, want);
    }

    #[test]
    fn every_later_field_reaches_an_empty_store() {
        let mut c = Customer::default();
        c.merge(full());
        assert_eq!(c, full());
        // All-blank groups do not create empty shells.
        let mut c = Customer::default();
        c.merge(Customer {
            shipping: Some(Address::default()),
            pickup_point: Some(PickupPoint::default()),
            ..Customer::default()
        });
        assert_eq!(c, Customer::default());
    }
}
