#pragma once

#include <string>

namespace perfcast::server {

// An answer of the metrics port other than /metrics: the status page, or its error pages.
struct HttpPage {
  int status_code = 200;  // 200, 400, 404, 500 or 503
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};

}  // namespace perfcast::server
