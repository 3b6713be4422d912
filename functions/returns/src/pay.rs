//! The payment page behind the signed link in the payment-request and payment-declined mails:
//! what the order waits for (amount, deadline), and a form taking the payment provider's token
//! (in a shop the provider's card widget fills it; card data never reaches the OMS).

use super::{Signed, order_id, page};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use oms_shared::app::orders::{PaymentRequest, payment_path};
use oms_shared::app::returns::Returns;
use oms_shared::app::{AppError, Caller};
use oms_shared::domain::{Order, OrderId, OrderStatus};
use placement::extract::Query;
use placement::problem::Problem;

async fn signed_order(r: &Returns, id: &str, q: &Signed) -> Result<Order, Problem> {
    let order: OrderId = order_id(id)?;
    r.check(&payment_path(&order), q.expires, &q.signature)?;
    Ok(r.oms.store.get_order(&order).await?.ok_or(AppError::NotFound)?)
}

pub async fn payment_page(
    State(r): State<Returns>,
    Path(id): Path<String>,
    Query(q): Query<Signed>,
) -> Result<Response, Problem> {
    let order = signed_order(&r, &id, &q).await?;
    let due = order.payment.recovery.as_ref().map(|p| p.due_by);
    if order.status != OrderStatus::PaymentRequired || due.is_some_and(|d| d <= r.oms.clock.now()) {
        let text = if order.status == OrderStatus::PaymentRequired || order.status.is_terminal() {
            "This order no longer waits for a payment."
        } else if order.payment.authorization_id.is_some() || order.payment.captured.is_some() {
            "We have the payment for this order. Thank you."
        } else {
            // Held by an agent, say: nothing to pay here now; they are in touch.
            "This order does not wait for a payment right now: it is being reviewed, and we will contact you."
        };
        return Ok(page("Pay for your order", &format!("<p>{text}</p>")));
    }
    let due = due.map(|d| format!(" We keep your items until {}.", d.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default();
    let form = format!(
        "<p>Order {id}: {amount} to pay.{due}</p>\
         <form method=\"post\" action=\"?expires={exp}&amp;signature={sig}\">\
         <p><label for=\"paymentToken\">Payment token from the payment provider's card form</label><br>\
         <input id=\"paymentToken\" name=\"paymentToken\" required maxlength=\"255\" autocomplete=\"off\"></p>\
         <button type=\"submit\">Pay {amount}</button></form>",
        id = order.id,
        amount = order.payable(),
        exp = q.expires,
        sig = q.signature,
    );
    Ok(page("Pay for your order", &form))
}

pub async fn pay(
    State(r): State<Returns>,
    Path(id): Path<String>,
    Query(q): Query<Signed>,
    form: Result<Form<PaymentRequest>, FormRejection>,
) -> Result<Response, Problem> {
    let order = signed_order(&r, &id, &q).await?;
    let Form(req) = form.map_err(|e| match e {
        FormRejection::InvalidFormContentType(_) => Problem::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send the form as application/x-www-form-urlencoded",
        ),
        other => {
            Problem::bad_request(format!("paymentToken: {}", other.body_text())).with("field", "paymentToken".into())
        }
    })?;
    // The link is the customer's: the payment is given as them.
    r.oms.submit_payment(&Caller::customer(order.customer.clone()), &order.id, None, req).await?;
    Ok(page(
        "Thank you",
        "<p>We received your payment method and are completing your order. You will get a mail when it is confirmed.</p>",
    ))
}
