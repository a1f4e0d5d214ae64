//! The Lambda side: an API Gateway REST proxy event in, a response out.

use jwo_domain::ports::{Alerts, CurrentPriceBook, PurchaseStore};
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};

use crate::{CreatePurchases, PurchaseRequest};

/// The IAM principal API Gateway authorized (`requestContext.identity.userArn`).
pub fn caller_arn(event: &Request) -> Option<&str> {
    match event.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.identity.user_arn.as_deref(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

pub async fn handle_event<S, A, B>(
    service: &CreatePurchases<S, A, B>,
    event: Request,
) -> Result<Response<Body>, Error>
where
    S: PurchaseStore,
    A: Alerts,
    B: CurrentPriceBook,
{
    let content_type = event
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let request = PurchaseRequest {
        method: event.method().as_str(),
        // The resource path without the stage prefix (`/Prod`).
        path: event.raw_http_path(),
        content_type,
        caller_arn: caller_arn(&event),
        body: event.body().as_ref(),
    };
    Ok(service.handle(request).await.into_http().map(Body::Binary))
}
