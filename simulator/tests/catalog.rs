//! The catalog endpoints, serving the catalog compiled into the `runcomfy` crate.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn list(
    sim: &runcomfy_simulator::Simulator,
    query: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    let resp = get(&client(), sim, &format!("/v1/models{query}")).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    Ok(resp.json().await?)
}

fn ids(reply: &Value) -> Vec<&str> {
    reply["models"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["model_id"].as_str()).collect())
        .unwrap_or_default()
}

/// Submits `body` to `model`, waits for the end, and reads the result with its cost;
/// returns the request id and that result.
async fn run_costed(
    c: &reqwest::Client,
    sim: &runcomfy_simulator::Simulator,
    model: &str,
    body: &Value,
) -> Result<(String, Value), Box<dyn std::error::Error>> {
    let id = request_id(&submit(c, sim, model, body).await?);
    wait_terminal(c, sim, &id).await?;
    let costed = get(
        c,
        sim,
        &format!("/v1/requests/{id}/result?include_cost=true"),
    )
    .await?
    .json()
    .await?;
    Ok((id, costed))
}

#[tokio::test]
async fn lists_every_compiled_model() -> TestResult {
    let sim = start(config()).await?;
    let all = list(&sim, "?limit=1000").await?;
    let expected: Vec<&str> = runcomfy::catalog().iter().map(|m| m.id).collect();
    assert_eq!(ids(&all), expected);
    assert_eq!(all["total"], expected.len());
    for seed in [EDIT, EDIT_SEQUENTIAL, SEQUENTIAL] {
        assert!(expected.contains(&seed), "{seed} missing from the catalog");
    }
    for model in all["models"].as_array().ok_or("no models")? {
        assert!(
            model["display_name"]
                .as_str()
                .is_some_and(|n| !n.is_empty()),
            "{model}"
        );
        assert!(
            model["categories"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            "{model}"
        );
        assert!(
            model.get("input_schema").is_none(),
            "schemas only on request: {model}"
        );
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn search_category_and_paging() -> TestResult {
    let sim = start(config()).await?;
    // Search is case-insensitive, on id and display name.
    let found = list(&sim, "?search=SEQUENTIAL").await?;
    assert_eq!(ids(&found), vec![EDIT_SEQUENTIAL, SEQUENTIAL]);
    assert_eq!(found["total"], 2);
    let default_page = list(&sim, "").await?;
    assert_eq!(ids(&default_page).len(), runcomfy::catalog().len().min(50));
    let none = list(&sim, "?search=no-such-thing").await?;
    assert_eq!(none["total"], 0);
    assert_eq!(ids(&none), Vec::<&str>::new());

    let text = list(&sim, "?category=text-to-image&search=seedream-4-0").await?;
    assert_eq!(ids(&text), vec![SEQUENTIAL]);
    let image = list(&sim, "?category=image-to-image&search=seedream-4-0").await?;
    assert_eq!(ids(&image), vec![EDIT, EDIT_SEQUENTIAL]);
    let video = list(&sim, "?category=image-to-video&search=seedance-2.5/image").await?;
    assert_eq!(ids(&video).len(), 4, "{video}");

    // The kind filter: what the model returns.
    let audio = list(&sim, "?kind=audio&limit=1000").await?;
    let expected: Vec<&str> = runcomfy::catalog()
        .iter()
        .filter(|m| m.upstream.output_kind == Some(runcomfy::vocab::media::MediaKind::Audio))
        .map(|m| m.id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids(&audio), expected);
    assert!(
        audio["models"]
            .as_array()
            .ok_or("no models")?
            .iter()
            .all(|m| m["kind"] == "audio")
    );
    let resp = get(&client(), &sim, "/v1/models?kind=hologram").await?;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, 422001).await?;

    // Paging: total counts every match, models only the page.
    let page = list(&sim, "?search=seedream-4-0&limit=1&offset=1").await?;
    assert_eq!(ids(&page), vec![EDIT_SEQUENTIAL]);
    assert_eq!(page["total"], 3);
    let past = list(&sim, "?search=seedream-4-0&offset=10").await?;
    assert_eq!((ids(&past).len(), past["total"].as_u64()), (0, Some(3)));

    // Bad numbers are a 422 in the usual shape.
    let resp = get(&client(), &sim, "/v1/models?limit=lots").await?;
    let body = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, 422001).await?;
    assert_eq!(
        body["detail"][0]["loc"],
        serde_json::json!(["query", "limit"])
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn schemas_are_the_catalogs_own() -> TestResult {
    let sim = start(config()).await?;
    let with = list(&sim, "?search=edit-sequential&include_schema=true").await?;
    let model = &with["models"][0];
    let info = runcomfy::catalog::find(EDIT_SEQUENTIAL).ok_or("no edit-sequential")?;
    let input: Value = serde_json::from_str(info.input_schema)?;
    let output: Value = serde_json::from_str(info.output_schema)?;
    assert_eq!(model["input_schema"], input);
    assert_eq!(model["output_schema"], output);
    assert_eq!(model["input_schema"]["properties"]["images"]["minItems"], 1);

    // One model: schemas always.
    let resp = get(&client(), &sim, &format!("/v1/models/{EDIT}")).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let one: Value = resp.json().await?;
    assert_eq!(one["model_id"], EDIT);
    assert_eq!(
        one["display_name"],
        runcomfy::catalog::find(EDIT).ok_or("no edit")?.display_name
    );
    let required = one["input_schema"]["required"]
        .as_array()
        .ok_or("no required")?;
    assert!(required.contains(&Value::from("prompt")) && required.contains(&Value::from("images")));
    assert!(one["output_schema"].is_object());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn prices_categories_and_the_cost_of_jobs() -> TestResult {
    const SEEDANCE: &str = "bytedance/seedance-2.5/text-to-video/1080p";
    let mut config = config();
    config.prices.insert(
        SEQUENTIAL.into(),
        runcomfy_simulator::parse_price("0.03/output")?,
    );
    config.prices.insert(
        SEEDANCE.into(),
        runcomfy_simulator::parse_price("0.1/second")?,
    );
    let sim = start(config).await?;
    let c = client();
    let model: Value = get(&c, &sim, &format!("/v1/models/{SEQUENTIAL}"))
        .await?
        .json()
        .await?;
    assert_eq!(model["base_price_usd"], 0.03);
    assert_eq!(model["price_unit"], "output");
    // The catalog's word stays: Seedance 2.5 1080p is `fixed`.
    let model: Value = get(&c, &sim, &format!("/v1/models/{SEEDANCE}"))
        .await?
        .json()
        .await?;
    assert_eq!(
        (model["base_price_usd"].clone(), model["pricing"].clone()),
        (serde_json::json!(0.1), serde_json::json!("fixed"))
    );

    let categories: Value = get(&c, &sim, "/v1/models/categories").await?.json().await?;
    let categories: Vec<&str> = categories["categories"]
        .as_array()
        .ok_or("no categories")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(categories.contains(&"text-to-image"), "{categories:?}");
    assert!(
        categories.windows(2).all(|w| w[0] < w[1]),
        "sorted, once each"
    );

    // Per output: the outputs made; per second: the seconds asked for.
    let body =
        serde_json::json!({"text": "Generate 4 images.", "sequential_image_generation_options": 4});
    let (id, costed) = run_costed(&c, &sim, SEQUENTIAL, &body).await?;
    assert_eq!(costed["cost"], 0.12, "{costed}");
    assert!(
        result(&c, &sim, &id).await?.get("cost").is_none(),
        "only when asked"
    );
    let body = serde_json::json!({"prompt": "a wave", "duration": 7});
    let (_, costed) = run_costed(&c, &sim, SEEDANCE, &body).await?;
    assert_eq!(costed["cost"], 0.7, "{costed}");
    sim.shutdown().await;
    Ok(())
}
