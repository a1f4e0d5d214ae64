//! The Lambda side: an API Gateway REST proxy event in, the operator's answer out. The caller's
//! IAM ARN (API Gateway's `requestContext.identity.userArn`) must be an allowed operator role,
//! and is who the purchase's history says made the change.

use jwo_aws::callers::AllowedCallers;
use jwo_domain::ports::{Alerts, CheckoutService, CurrentPriceBook, PurchaseStore};
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};

use crate::Operator;
use crate::graphql::{self, GRAPHQL_PATH, OperatorSchema};
use crate::rest::{OperatorRequest, OperatorResponse};

/// The IAM principal API Gateway authorized.
pub fn caller_arn(event: &Request) -> Option<&str> {
    match event.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.identity.user_arn.as_deref(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Answers one event: the REST routes, or `POST /graphql` over the same service.
pub async fn handle_event<S, A, C, B>(
    service: &Operator<S, A, C, B>,
    schema: &OperatorSchema,
    allowed: &AllowedCallers,
    event: Request,
) -> Result<Response<Body>, Error>
where
    S: PurchaseStore,
    A: Alerts,
    C: CheckoutService,
    B: CurrentPriceBook,
{
    let caller = caller_arn(&event);
    // The resource path without the stage prefix (`/prod`).
    let path = event.raw_http_path();
    let answer = match caller {
        Some(actor) if allowed.allows(Some(actor)) && path == GRAPHQL_PATH => {
            if event.method().as_str() == "POST" {
                graphql::execute(schema, actor, event.body().as_ref()).await
            } else {
                OperatorResponse {
                    status: 405,
                    body: br#"{"message":"GraphQL is POST /graphql"}"#.to_vec(),
                }
            }
        }
        Some(actor) if allowed.allows(Some(actor)) => {
            service
                .handle(OperatorRequest {
                    method: event.method().as_str(),
                    path,
                    query: event.uri().query(),
                    body: event.body().as_ref(),
                    actor,
                })
                .await
        }
        _ => OperatorResponse {
            status: 403,
            body: br#"{"message":"the caller is not one of the operator roles (ALLOWED_CALLER_ARNS)"}"#
                .to_vec(),
        },
    };
    Ok(Response::builder()
        .status(answer.status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Binary(answer.body))?)
}
