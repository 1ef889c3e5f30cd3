#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rhp::test {

/* A plain blocking RESP client that knows one address, like a legacy
 * application. Replies come back as their raw bytes so tests compare them
 * byte for byte. Every read has a timeout so a broken proxy fails the test
 * instead of hanging it. */
class RespClient {
 public:
  explicit RespClient(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void sendRaw(std::string_view bytes);
  /* One complete reply's bytes, or std::nullopt on timeout or EOF. */
  std::optional<std::string> readReply();
  /* sendRaw(encode(args)) + readReply(); "" when nothing came back. */
  std::string call(const std::vector<std::string>& args);
  /* True once the server closed the connection (EOF or a reset within the
   * timeout). */
  bool waitForClose();
  void close();

  static std::string encode(const std::vector<std::string>& args);
  /* Payload of a bulk or status reply; "" otherwise. */
  static std::string valueOf(const std::string& reply);

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace rhp::test
