//! The satisfaction survey behind the signed link in the after-delivery mail: a page with one
//! question and a comment box, and the answer it posts (once).

use super::{Signed, order_id, page};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use oms_shared::app::feedback::{FeedbackAnswer, survey_path};
use oms_shared::app::returns::Returns;
use placement::extract::Query;
use placement::problem::Problem;

pub async fn survey_page(
    State(r): State<Returns>,
    Path(id): Path<String>,
    Query(q): Query<Signed>,
) -> Result<Response, Problem> {
    let order = order_id(&id)?;
    r.check(&survey_path(&order), q.expires, &q.signature)?;
    let answered = r.oms.store.get_feedback(&order).await?.and_then(|f| f.answered_at).is_some();
    if answered {
        return Ok(page("Thank you", "<p>You answered this survey already. Thank you for your feedback.</p>"));
    }
    let choices: String = (1..=5)
        .map(|n| {
            format!(
                "<label style=\"margin-right:1em\"><input type=\"radio\" name=\"score\" value=\"{n}\" required> {n}</label>"
            )
        })
        .collect();
    let form = format!(
        "<form method=\"post\" action=\"?expires={}&amp;signature={}\"><fieldset><legend>How satisfied are you with order {order}? (1: not at all, 5: very)</legend>{choices}</fieldset>\
         <p><label for=\"comment\">Anything to add? (optional)</label><br><textarea id=\"comment\" name=\"comment\" rows=\"4\" cols=\"50\" maxlength=\"1000\"></textarea></p>\
         <button type=\"submit\">Send</button></form>",
        q.expires, q.signature
    );
    Ok(page("How did we do?", &form))
}

pub async fn answer(
    State(r): State<Returns>,
    Path(id): Path<String>,
    Query(q): Query<Signed>,
    form: Result<Form<FeedbackAnswer>, FormRejection>,
) -> Result<Response, Problem> {
    let order = order_id(&id)?;
    r.check(&survey_path(&order), q.expires, &q.signature)?;
    let Form(a) = form.map_err(|e| match e {
        FormRejection::InvalidFormContentType(_) => Problem::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send the form as application/x-www-form-urlencoded",
        ),
        other => Problem::bad_request(format!("score: {}", other.body_text())).with("field", "score".into()),
    })?;
    r.oms.answer_feedback(&order, a).await?;
    Ok(page("Thank you", "<p>Thank you for your feedback.</p>"))
}
