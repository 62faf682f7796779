#!/usr/bin/env bash
# Type-checks the web apps' scripts against the API's OpenAPI document: the calls they
# make (path, method, body) and the fields they read of the answers. Types come from
# docs/openapi.json (which tests/contract.rs proves is the document the code serves)
# through openapi-typescript; the scripts' JSDoc (`api()`, `at()`, the state they keep)
# refers to them. Needs `npm ci` in e2e/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=e2e/node_modules/.bin
check=crates/server/webcheck
"$bin/openapi-typescript" docs/openapi.json --default-non-nullable false --output "$check/api.d.ts" --silent
# Each page is its own program: common.js and the page's script share one global scope,
# as they do in the browser.
status=0
shopt -s nullglob
for page in pos office kds account pin login; do
    "$bin/tsc" --noEmit --allowJs --checkJs --target ES2022 --lib ES2022,DOM,DOM.Iterable \
        --skipLibCheck --pretty false \
        "$check/contract.d.ts" "$check/dom.d.ts" crates/server/assets/common.js \
        "crates/server/assets/$page.js" crates/server/assets/"$page"-*.js || status=1
done
exit $status
