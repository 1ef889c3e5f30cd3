#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace rhp::test {

struct HttpResponse {
  int status = 0;  // 0: no parseable answer
  std::string body;
  std::string raw;
  bool closed = false;  // the server closed the connection after answering
};

/* Sends `request` as it is to 127.0.0.1:port and reads until the server
 * closes the connection or `timeout` passes. */
HttpResponse httpExchange(std::uint16_t port, std::string_view request,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));

/* GET `path` over HTTP/1.1. */
HttpResponse httpGet(std::uint16_t port, const std::string& path);

/* The value of the first sample line of a Prometheus exposition that
 * starts with `series` ("name" or "name{labels}"), or -1. */
double sampleValue(const std::string& exposition, const std::string& series);

/* Runs `promtool check metrics` on `exposition`; its output, and whether it
 * accepted the text. */
struct PromtoolVerdict {
  bool accepted = false;
  std::string output;
};
PromtoolVerdict promtoolCheckMetrics(const std::string& exposition, const std::string& work_dir);

}  // namespace rhp::test
