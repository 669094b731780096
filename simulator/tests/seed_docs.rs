//! The request bodies of RunComfy's own doc pages (shared/seeds), sent as their curl commands
//! send them.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;
use reqwest::StatusCode;

/// Every (model id, body) pair of the pages' `curl --url .../v1/models/{id} ... --data '...'`.
fn curl_requests() -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds");
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read the seed pages in {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path)?;
        let mut rest = text.as_str();
        while let Some(at) = rest.find("--data '") {
            let before = &rest[..at];
            let after = &rest[at + "--data '".len()..];
            let end = after.find('\'').ok_or("unterminated --data")?;
            let body = after[..end].to_owned();
            // The model is in the nearest --url before the body.
            let url = before
                .rfind("/v1/models/")
                .map(|i| &before[i + "/v1/models/".len()..])
                .and_then(|u| u.split_whitespace().next())
                .ok_or("a --data without a model --url")?;
            found.push((url.to_owned(), body));
            rest = &after[end..];
        }
    }
    Ok(found)
}

#[tokio::test]
async fn the_docs_curl_bodies_get_the_answers_the_schemas_imply() -> TestResult {
    let requests = curl_requests()?;
    let models: BTreeSet<&str> = requests.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        models,
        BTreeSet::from([EDIT, EDIT_SEQUENTIAL, SEQUENTIAL]),
        "{requests:?}"
    );
    let sim = start(config()).await?;
    let c = client();
    for (model, body) in &requests {
        // Sent as curl sends it: the text as written, not re-serialized.
        let resp = c
            .post(format!("{}/v1/models/{model}", sim.base_url()))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?;
        match model.as_str() {
            // `"images": []` breaks minItems 1.
            EDIT | EDIT_SEQUENTIAL => {
                let reply = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, 422001).await?;
                let detail = reply["detail"].as_array().ok_or("no detail")?;
                assert!(
                    detail
                        .iter()
                        .any(|d| d["path"] == "images" && d["rule"] == "minItems"),
                    "{model}: {reply}"
                );
            }
            // `{"text": ...}` is complete: three 16:9 images by default.
            _ => {
                assert_eq!(resp.status(), StatusCode::OK, "{model}: {body}");
                let id = request_id(&resp.json().await?);
                assert_eq!(wait_terminal(&c, &sim, &id).await?["status"], "completed");
                assert_eq!(output_sizes(&c, &sim, &id).await?, vec![(2560, 1440); 3]);
            }
        }
    }
    let stats = sim.stats();
    let accepted = requests.iter().filter(|(m, _)| m == SEQUENTIAL).count() as u64;
    assert!(accepted > 0);
    assert_eq!(stats.submissions, accepted);
    // The pages repeat the same body: every repeat is a duplicate.
    assert_eq!(stats.duplicate_submissions, accepted - 1);
    sim.shutdown().await;
    Ok(())
}
