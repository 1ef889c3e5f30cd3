#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace rhp::test {

template <typename Redirect>
void ChildProcess::spawn(const std::vector<std::string>& argv, int death_signal,
                         Redirect redirect) {
  std::vector<char*> raw;
  for (const auto& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent) _exit(127);
    redirect();
    setpgid(0, 0);
    execvp(raw[0], raw.data());
    _exit(127);
  }
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path) {
  spawn(argv, SIGKILL, [&] {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
  });
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, int socket_fd, int death_signal) {
  spawn(argv, death_signal, [&] {
    dup2(socket_fd, STDIN_FILENO);
    dup2(socket_fd, STDOUT_FILENO);
  });
}

ChildProcess::~ChildProcess() {
  if (running()) stop(SIGKILL, 5000);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (running()) stop(SIGKILL, 5000);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

void ChildProcess::signal(int signo) const {
  if (pid_ > 0) ::kill(pid_, signo);
}

int ChildProcess::wait(int timeout_ms) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return status;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int ChildProcess::stop(int signo, int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, signo);
  const int status = wait(timeout_ms);
  if (status != -1) return status;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

std::string readFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace rhp::test
