//! `comanda catalog import|export` run as an operator would, against a real SQLite file.

mod support;

use comanda_store::{CatalogRepo, Limit, ProductFilter, StoreRepo};
use support::{comanda, prepared, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_imports_and_exports_the_catalog() {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = prepared(dir.path()).await;
    let file = dir.path().join("menu.csv");
    std::fs::write(
        &file,
        "category,product,variant,sku,price\nPizzas,Margherita,Média,MG-M,42.00\nPizzas,Margherita,Grande,MG-G,55.50\n",
    )
    .expect("write");
    let imported = run(comanda(dir.path())
        .args(["catalog", "import"])
        .arg(&file)
        .args(["--store", "main"]));
    assert!(imported.status.success(), "{}", imported.stderr);
    assert!(
        imported.stdout.contains("1 products created"),
        "{}",
        imported.stdout
    );
    let store = storage
        .list_stores(None, None, Limit::new(None))
        .await
        .expect("stores")
        .items[0]
        .id;
    let products = storage
        .list_products(store, &ProductFilter::default(), None, Limit::new(None))
        .await
        .expect("products");
    assert_eq!(products.items[0].variants[1].price.amount, 5550);

    let exported = run(comanda(dir.path()).args(["catalog", "export", "--store", "main"]));
    assert!(exported.status.success(), "{}", exported.stderr);
    assert!(
        exported
            .stdout
            .contains("Pizzas,Margherita,Grande,MG-G,,55.50"),
        "{}",
        exported.stdout
    );

    std::fs::write(&file, "product,price\nSem preço,\nOutro,abc\n").expect("write");
    let refused = run(comanda(dir.path())
        .args(["catalog", "import"])
        .arg(&file)
        .args(["--store", "main"]));
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("2 problem(s)"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("line 3, price"),
        "{}",
        refused.stderr
    );
    // The whole catalog as JSON, imported back: a rate it names that the store lacks is
    // created with it.
    let bundle =
        run(comanda(dir.path()).args(["catalog", "export", "--store", "main", "--format", "json"]));
    assert!(bundle.status.success(), "{}", bundle.stderr);
    let mut whole: serde_json::Value = serde_json::from_str(&bundle.stdout).expect("JSON");
    assert_eq!(whole["format"], "comanda-catalog/1");
    whole["tax_rates"] = serde_json::json!([{ "name": "ISS", "rate": "5" }]);
    whole["products"] = serde_json::json!("product,sku,price,taxes\nCalzone,CZ-1,39.90,ISS\n");
    let json_file = dir.path().join("catalog.json");
    std::fs::write(&json_file, whole.to_string()).expect("write");
    let moved = run(comanda(dir.path())
        .args(["catalog", "import"])
        .arg(&json_file)
        .args(["--store", "main"]));
    assert!(moved.status.success(), "{}", moved.stderr);
    assert!(
        moved
            .stdout
            .contains("1 tax rates and 0 modifier groups created"),
        "{}",
        moved.stdout
    );
    let unknown = run(comanda(dir.path()).args(["catalog", "export", "--store", "nowhere"]));
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
}
