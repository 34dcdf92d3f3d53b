// A fresh directory under /tmp for one test (state directories, WAV files, databases), removed afterwards.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace voicebridge::testing {

inline std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "voicebridge-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// Removes only what make_temp_dir made.
inline void remove_temp_dir(const std::filesystem::path& dir) {
  if (dir.filename().string().starts_with("voicebridge-test-")) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}

struct temp_dir {
  std::filesystem::path path = make_temp_dir();
  temp_dir() = default;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() { remove_temp_dir(path); }
};

}  // namespace voicebridge::testing
