#include "proxy/fd_watch.h"
#include "proxy/proxy_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace rhp::proxy {

namespace {

constexpr std::uint64_t kEveryMs = 1000;

}  // namespace

FdWatch::FdWatch(uv_loop_t* loop) {
  if (uv_timer_init(loop, timer_.allocate()) != 0) {
    timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed for the descriptor watch");
  }
  timer_->data = this;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<FdWatch*>(timer->data)->check();
      },
      kEveryMs, kEveryMs);
  uv_unref(timer_.base());  // does not keep the loop alive by itself
}

void FdWatch::check() {
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int error = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  const bool exhausted = error == EMFILE || error == ENFILE;
  if (exhausted == exhausted_) return;
  exhausted_ = exhausted;
  if (exhausted) {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    proxyLog()->error(
        "out of file descriptors ({}, limit {}): new connections are accepted and closed at once "
        "until some are free; raise LimitNOFILE / ulimit -n or lower proxy.max_clients",
        std::strerror(error), limit.rlim_cur);
  } else {
    proxyLog()->warn("file descriptors available again");
  }
}

}  // namespace rhp::proxy
