#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <string>

#include "proxy/logging.h"

namespace rhp::proxy {
namespace {

std::string formatted(std::string_view logger, spdlog::level::level_enum level,
                      std::string_view text) {
  const auto formatter = makeJsonFormatter();
  spdlog::details::log_msg message(spdlog::source_loc{}, logger, level, text);
  spdlog::memory_buf_t out;
  formatter->format(message, out);
  return std::string(out.data(), out.size());
}

TEST(JsonLog, OneObjectPerLineWithTheMessageEscaped) {
  const std::string line = formatted("health", spdlog::level::warn,
                                     "master changed old=a new=b trigger=\"+switch-master\"\n"
                                     "tab\there back\\slash \x01");
  EXPECT_EQ(line.rfind("{\"time\":\"", 0), 0u) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line: " << line;
  EXPECT_NE(line.find("Z\",\"level\":\"warning\",\"logger\":\"health\",\"message\":"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"message\":\"master changed old=a new=b trigger=\\\"+switch-master\\\"\\n"
                      "tab\\there back\\\\slash \\u0001\"}\n"),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace rhp::proxy
