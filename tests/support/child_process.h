#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace rhp::test {

/* A process the test started; killed (SIGKILL) when this object goes away,
 * and also if the test binary dies, through PR_SET_PDEATHSIG. */
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  void signal(int signo) const;
  /* Sends `signo` and waits up to `timeout_ms`, then SIGKILLs. Returns the
   * wait status, or -1 if the process had to be killed. */
  int stop(int signo, int timeout_ms);
  /* Waits for exit up to `timeout_ms`; returns the wait status or -1. */
  int wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
};

std::string readFile(const std::string& path);

}  // namespace rhp::test
