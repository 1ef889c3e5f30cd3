#include "proxy/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace rhp::proxy {
namespace {

using Status = HttpRequest::Status;

TEST(HttpRequest, ParsesTheRequestLineOnceTheHeadersHaveArrived) {
  const std::string text = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
  for (std::size_t cut = 0; cut < text.size(); ++cut) {
    EXPECT_EQ(parseHttpRequest(text.substr(0, cut)).status, Status::NeedMore) << cut;
  }
  const HttpRequest request = parseHttpRequest(text);
  ASSERT_EQ(request.status, Status::Complete);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/metrics");
  EXPECT_EQ(parseHttpRequest("HEAD /readyz HTTP/1.0\r\n\r\n").method, "HEAD");
}

TEST(HttpRequest, RefusesWhatIsNotHttp) {
  for (const char* text : {"PING\r\n\r\n", "GET /metrics\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
                           "GET /metrics HTTP/2\r\n\r\n", "get /metrics HTTP/1.1\r\n\r\n",
                           "GET  /metrics HTTP/1.1\r\n\r\n", " GET /metrics HTTP/1.1\r\n\r\n",
                           "*1\r\n$4\r\nPING\r\n\r\n"}) {
    EXPECT_EQ(parseHttpRequest(text).status, Status::Malformed) << text;
  }
}

TEST(HttpRequest, RefusesHeadersThatNeverEnd) {
  const std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(9000, 'a');
  EXPECT_EQ(parseHttpRequest(endless, 8192).status, Status::Malformed);
  EXPECT_EQ(parseHttpRequest(endless.substr(0, 100), 8192).status, Status::NeedMore);
}

TEST(HttpRequest, ReadsTheAuthorizationHeaderWhateverItsCase) {
  EXPECT_EQ(parseHttpRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n").authorization, "");
  EXPECT_EQ(parseHttpRequest("GET / HTTP/1.1\r\nAuthorization: Bearer abc\r\n\r\n").authorization,
            "Bearer abc");
  EXPECT_EQ(parseHttpRequest("GET / HTTP/1.1\r\nhost: a\r\nAUTHORIZATION:\t Bearer x y \r\n\r\n")
                .authorization,
            "Bearer x y");
  // A header line without a colon is not HTTP.
  EXPECT_EQ(parseHttpRequest("GET / HTTP/1.1\r\nAuthorization Bearer x\r\n\r\n").status,
            Status::Malformed);
  EXPECT_EQ(parseHttpRequest("GET / HTTP/1.1\r\n: x\r\n\r\n").status, Status::Malformed);
}

}  // namespace
}  // namespace rhp::proxy
