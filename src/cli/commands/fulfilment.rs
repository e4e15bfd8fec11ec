//! `ordervault shipment add|list` and `cancellation add|list`: the same checks and store
//! as the API (`fulfilment::request`), answering with the same JSON.

use serde_json::{json, Value};

use crate::app::App;
use crate::cli::args::{CancellationCommand, LineArg, ShipmentCommand};
use crate::error::ServiceError;
use crate::fulfilment::request::{
    submit_cancellation, submit_shipment, CancellationBody, LineBody, Refusal, ShipmentBody,
};
use crate::fulfilment::view::{request_view, requests_of};
use crate::orders::{find_order, FindError};
use crate::store::{AccountStore, OrderRow};

fn refused(r: Refusal) -> ServiceError {
    match r {
        Refusal::Unprocessable(d) => ServiceError::Unprocessable(d),
        Refusal::Conflict(d) => ServiceError::Conflict(d),
        Refusal::Store(_) => ServiceError::internal("the request could not be stored; see the log"),
    }
}

fn lines(args: Vec<LineArg>) -> Option<Vec<LineBody>> {
    (!args.is_empty()).then(|| {
        args.into_iter()
            .map(|l| LineBody {
                line_id: l.line_id,
                quantity: l.quantity,
            })
            .collect()
    })
}

async fn order(
    app: &App,
    account: &str,
    number: &str,
    marketplace: Option<&str>,
) -> Result<(AccountStore, OrderRow), ServiceError> {
    let id = crate::accounts::parse_account_id(account)?;
    let id = crate::accounts::active_account(app, &id).await?;
    let store = app.store.account(&id).await?;
    let number = number.trim();
    match find_order(&store, number, marketplace).await {
        Ok(row) => Ok((store, row)),
        Err(FindError::NotFound) => Err(ServiceError::NotFound(format!("order {number}"))),
        Err(FindError::Ambiguous) => Err(ServiceError::Conflict(
            "orders on several marketplaces share this number; add --marketplace".into(),
        )),
        Err(FindError::Store(e)) => Err(e.into()),
    }
}

async fn list(
    app: &App,
    account: &str,
    number: &str,
    marketplace: Option<&str>,
    kind: &str,
) -> Result<Value, ServiceError> {
    let (store, row) = order(app, account, number, marketplace).await?;
    Ok(json!(requests_of(&store, &row, kind).await?))
}

/// Runs a `shipment` command; returns what to print.
pub async fn shipment(app: &App, cmd: ShipmentCommand) -> Result<Value, ServiceError> {
    match cmd {
        ShipmentCommand::Add {
            account,
            order: number,
            marketplace,
            lines: l,
            carrier,
            tracking,
            tracking_url,
            reference,
            idempotency_key,
        } => {
            let (store, row) = order(app, &account, &number, marketplace.as_deref()).await?;
            let body = ShipmentBody {
                lines: lines(l),
                carrier,
                tracking_number: tracking,
                tracking_url,
                shipped_at: None,
                reference,
            };
            let s = submit_shipment(
                &store,
                &row,
                &body,
                idempotency_key.as_deref(),
                app.clock.now(),
            )
            .await
            .map_err(refused)?;
            Ok(json!(request_view(&s.row)))
        }
        ShipmentCommand::List {
            account,
            order,
            marketplace,
        } => list(app, &account, &order, marketplace.as_deref(), "shipment").await,
    }
}

/// Runs a `cancellation` command; returns what to print.
pub async fn cancellation(app: &App, cmd: CancellationCommand) -> Result<Value, ServiceError> {
    match cmd {
        CancellationCommand::Add {
            account,
            order: number,
            marketplace,
            lines: l,
            reason,
            reference,
            idempotency_key,
        } => {
            let (store, row) = order(app, &account, &number, marketplace.as_deref()).await?;
            let body = CancellationBody {
                lines: lines(l),
                reason,
                reference,
            };
            let s = submit_cancellation(
                &store,
                &row,
                &body,
                idempotency_key.as_deref(),
                app.clock.now(),
            )
            .await
            .map_err(refused)?;
            Ok(json!(request_view(&s.row)))
        }
        CancellationCommand::List {
            account,
            order,
            marketplace,
        } => {
            list(
                app,
                &account,
                &order,
                marketplace.as_deref(),
                "cancellation",
            )
            .await
        }
    }
}
