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
  /* A child that talks to the test over one socket (its end of a
   * socketpair), which becomes its stdin and stdout; stderr is the test's
   * own. `death_signal` reaches it if the test binary dies, so a child that
   * cleans up after itself can be given SIGTERM. */
  ChildProcess(const std::vector<std::string>& argv, int socket_fd, int death_signal);
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
  /* Forks and execs; in the child, `redirect` sets up the descriptors. */
  template <typename Redirect>
  void spawn(const std::vector<std::string>& argv, int death_signal, Redirect redirect);

  pid_t pid_ = -1;
};

std::string readFile(const std::string& path);

}  // namespace rhp::test
