// What keeping call audio in PostgreSQL costs (records/call_audio.hpp): the time to copy a recording in, as
// the record writer does after each recorded call, and to read it back chunk by chunk, as the read API of
// another instance does. A 10-minute two-channel recording (8 kHz mu-law) is 9.6 MB.
//   bench-audio --database-url postgres://... [--minutes 10] [--runs 5]
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include <unistd.h>

#include "records/call_store.hpp"

using namespace voicebridge;

int main(int argc, char** argv) {
  std::string url;
  double minutes = 10;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--database-url") url = argv[i + 1];
    else if (flag == "--minutes") minutes = std::atof(argv[i + 1]);
    else if (flag == "--runs") runs = std::atoi(argv[i + 1]);
    else {
      std::cerr << "bench-audio: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (url.empty() || minutes <= 0 || runs < 1) {
    std::cerr << "usage: bench-audio --database-url postgres://... [--minutes 10] [--runs 5]\n";
    return 2;
  }
  const auto bytes = static_cast<std::size_t>(minutes * 60 * 16000);  // two channels of 8,000 bytes/s
  const auto file = std::filesystem::temp_directory_path() / ("bench-audio-" + std::to_string(::getpid()) + ".wav");
  {
    std::string data(bytes, '\0');
    std::mt19937 random(1);
    for (auto& b : data) b = static_cast<char>(random());
    std::ofstream(file, std::ios::binary) << data;
  }
  try {
    records::call_store store(records::open_postgres(url));
    store.migrate();
    using clock = std::chrono::steady_clock;
    const auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    for (int run = 0; run < runs; ++run) {
      // Each run stores it in full: a size other than the last run's defeats the "already stored" check.
      const auto size = bytes - static_cast<std::size_t>(run % 2);
      std::filesystem::resize_file(file, size);
      const std::string sid = "CA" + std::string(32, 'b');
      auto t0 = clock::now();
      store.share_audio(sid, records::audio_kind::recording, file, 0);
      auto t1 = clock::now();
      const auto stored = store.find_audio(sid, records::audio_kind::recording);
      std::size_t read = 0;
      for (std::int64_t c = 0; stored && c < stored->chunks; ++c) read += store.audio_chunk(sid, records::audio_kind::recording, c).size();
      auto t2 = clock::now();
      if (read != size) throw std::runtime_error("read back " + std::to_string(read) + " bytes of " + std::to_string(size));
      std::cout << "{\"bytes\":" << size << ",\"store_ms\":" << ms(t1 - t0) << ",\"read_ms\":" << ms(t2 - t1) << "}\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "bench-audio: " << e.what() << "\n";
    std::filesystem::remove(file);
    return 1;
  }
  std::filesystem::remove(file);
}
