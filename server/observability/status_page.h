#pragma once

#include "absl/strings/string_view.h"
#include "server/observability/http_page.h"
#include "server/observability/status_snapshot.h"

namespace perfcast::server {

// The status page of `GET /` on the metrics port, rendered on the server as HTML with inline SVG
// and CSS only (no script, nothing fetched from elsewhere): model versions and their state, live
// (prequential) accuracy, refit history, results per campaign, and the curve explorer
// (curve_explorer.h) driven by `query_string` (the part of the target after '?').
//
// A bad request field is a 400 page naming it (status_page_request.h); a curve asked for before
// any model serves, 503. Every text from the snapshot or the request is escaped.
//
// Cost: in memory only, a few scans of the serving model's curves and at most
// ExplorerBatchSizes(kMaxExplorerBatchSize) predictions, so it runs on the metrics server's loop
// without holding a scrape up for long.
HttpPage RenderStatusPage(const StatusSnapshot& snapshot, absl::string_view query_string);

}  // namespace perfcast::server
