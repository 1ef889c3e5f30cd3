#include "tests/support/proxy_process.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

#include "tests/support/free_port.h"
#include "tests/support/lab.h"
#include "tests/support/resp_client.h"

namespace rhp::test {

std::string ProxyProcess::binary() {
  return RHP_PROXY_BINARY;
}

ProxyProcess::ProxyProcess(const std::string& work_dir, const std::vector<std::string>& args,
                           const std::vector<std::string>& launcher)
    : port_(freePort()),
      admin_port_(freePort()),
      log_path_(work_dir + "/proxy-" + std::to_string(port_) + ".log") {
  std::vector<std::string> argv{binary(),
                                "--listen",
                                "127.0.0.1:" + std::to_string(port_),
                                "--admin-listen",
                                "127.0.0.1:" + std::to_string(admin_port_),
                                "--log-level",
                                "debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.begin(), launcher.begin(), launcher.end());
  process_ = ChildProcess(argv, log_path_);
  const bool up = Lab::waitUntil(
      [&] {
        RespClient client(port_, std::chrono::milliseconds(500));
        if (!client.connected()) return false;
        // With proxy.password set the proxy is up when it asks for AUTH.
        const std::string reply = client.call({"PING"});
        return reply == "+PONG\r\n" || reply.rfind("-NOAUTH", 0) == 0;
      },
      std::chrono::seconds(10));
  if (!up) throw std::runtime_error("proxy did not answer PING; log:\n" + log());
}

ProxyProcess::~ProxyProcess() {
  terminate();
}

std::string ProxyProcess::log() const {
  return readFile(log_path_);
}

bool ProxyProcess::waitUntilWritable(const std::string& password) const {
  return Lab::waitUntil(
      [&] {
        RespClient client(port_, std::chrono::milliseconds(2000));
        if (!password.empty() && client.call({"AUTH", password}) != "+OK\r\n") return false;
        return client.call({"SET", "rhp:probe", "1"}) == "+OK\r\n";
      },
      std::chrono::seconds(15));
}

std::size_t ProxyProcess::countInLog(const std::string& text) const {
  const std::string text_of_log = log();
  std::size_t count = 0;
  for (auto at = text_of_log.find(text); at != std::string::npos;
       at = text_of_log.find(text, at + 1)) {
    ++count;
  }
  return count;
}

bool ProxyProcess::waitForEligibleReplicas(std::size_t count) const {
  return Lab::waitUntil(
      [&] {
        return countInLog("replica eligible for reads") >=
               countInLog("replica not eligible for reads") + count;
      },
      std::chrono::seconds(10));
}

int ProxyProcess::terminate() {
  return process_.stop(SIGTERM, 10000);
}

std::size_t ProxyProcess::residentBytes() const {
  std::ifstream status("/proc/" + std::to_string(process_.pid()) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // in kB
  }
  return 0;
}

}  // namespace rhp::test
