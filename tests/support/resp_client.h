#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
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
  /* A TLS connection's files (as redis-cli --tls --cacert --cert --key). */
  struct Tls {
    std::string ca_cert_file;
    std::string cert_file;  // empty: no client certificate
    std::string key_file;
  };

  explicit RespClient(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000),
                      const Tls* tls = nullptr);
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  /* Why a TLS connection failed ("" otherwise). */
  const std::string& tlsError() const { return tls_error_; }
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
  struct FreeSsl {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
  };
  void startTls(const Tls& tls);
  ssize_t receive(char* into, std::size_t size);

  int fd_ = -1;
  std::string buffer_;
  std::unique_ptr<SSL_CTX, FreeSsl> tls_context_;
  std::unique_ptr<SSL, FreeSsl> tls_;
  std::string tls_error_;
};

}  // namespace rhp::test
