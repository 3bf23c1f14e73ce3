// Out of memory during a separation: the network's test seam makes forward
// passes fail exactly as LibTorch reports a device allocation failure, and
// the pipeline must retry with smaller batches, give the same result as a
// run that used the smaller batch from the start, and fail clearly when even
// one chunk does not fit. The conversion of real LibTorch allocation
// failures is checked as far as a CPU allows.

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "agent/models/checkpoint.hpp"
#include "agent/models/separation.hpp"
#include "agent/models/torch_errors.hpp"
#include "fixtures.hpp"

namespace ferry::models {
namespace {

std::unique_ptr<DemucsNetwork> small_network() {
  auto checkpoint = load_demucs_checkpoint(testing::demucs_fixture("htdemucs_small") / "model.th");
  EXPECT_TRUE(checkpoint) << checkpoint.error().describe();
  if (!checkpoint) return nullptr;
  auto network = DemucsNetwork::create(*checkpoint);
  EXPECT_TRUE(network) << network.error().describe();
  return network ? std::move(*network) : nullptr;
}

// Four chunks of the fixture's 2 s segment (stride 1.5 s).
at::Tensor four_chunk_mix() {
  at::manual_seed(5);
  return at::randn({2, 3 * 66150 + 1000}) * 0.1;
}

struct SeparationRun {
  Result<at::Tensor> out;
  std::vector<std::int64_t> done;  ///< chunks done after each successful pass
};

SeparationRun separate_with_batch(const DemucsNetwork& network, const at::Tensor& mix, int batch) {
  SeparationRun run;
  SeparationOptions options;
  options.batch_size = batch;
  options.on_progress = [&](const SeparationProgress& p) {
    run.done.push_back(p.done);
    return true;
  };
  run.out = separate({BagMember{&network, {}, {}}}, mix, options);
  return run;
}

class OutOfMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::demucs_fixture("htdemucs_small"))) GTEST_SKIP() << "fixtures not found";
    network_ = small_network();
    ASSERT_TRUE(network_);
  }
  std::unique_ptr<DemucsNetwork> network_;
};

TEST_F(OutOfMemory, BatchOfFourIsRetriedAsTwoWithTheResultOfBatchTwo) {
  const at::Tensor mix = four_chunk_mix();
  const SeparationRun batch_two = separate_with_batch(*network_, mix, 2);
  ASSERT_TRUE(batch_two.out) << batch_two.out.error().describe();
  ASSERT_EQ(batch_two.done, (std::vector<std::int64_t>{2, 4}));

  network_->inject_out_of_memory(1, /*max_batch=*/2);
  const SeparationRun retried = separate_with_batch(*network_, mix, 4);
  ASSERT_TRUE(retried.out) << retried.out.error().describe();
  EXPECT_EQ(network_->injected_out_of_memory_left(), 0);
  // The failed pass of four reported nothing; every later pass took two.
  EXPECT_EQ(retried.done, batch_two.done);
  EXPECT_TRUE(at::equal(*retried.out, *batch_two.out));
}

TEST_F(OutOfMemory, FailsClearlyWhenOneChunkDoesNotFit) {
  network_->inject_out_of_memory(100, /*max_batch=*/0);
  const SeparationRun run = separate_with_batch(*network_, four_chunk_mix(), 4);
  ASSERT_FALSE(run.out);
  EXPECT_EQ(run.out.error().code, ErrorCode::resource_exhausted);
  EXPECT_TRUE(run.done.empty());
  EXPECT_EQ(network_->injected_out_of_memory_left(), 100 - 3) << "tries with 4, 2 and 1 chunks";
  const std::string& message = run.out.error().message;
  EXPECT_NE(message.find("out of memory"), std::string::npos) << message;
  EXPECT_NE(message.find("one chunk (2.0 s of audio)"), std::string::npos) << message;
  EXPECT_NE(message.find("shorter segment"), std::string::npos) << message;
  EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
}

TEST_F(OutOfMemory, InjectionOnlyHitsBatchesAboveTheLimit) {
  network_->inject_out_of_memory(1, /*max_batch=*/1);
  EXPECT_TRUE(network_->forward(at::zeros({1, 2, 1000})));
  EXPECT_EQ(network_->injected_out_of_memory_left(), 1);
  auto failed = network_->forward(at::zeros({2, 2, 1000}));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::resource_exhausted);
  EXPECT_TRUE(network_->forward(at::zeros({2, 2, 1000}))) << "only the injected number of passes fail";
}

TEST(TorchErrors, AllocationFailuresBecomeResourceExhausted) {
  // How CUDA's caching allocator reports it (LibTorch >= 1.13), and the
  // plain error older releases and cuDNN throw.
  const c10::OutOfMemoryError cuda_oom({"alloc", "CUDACachingAllocator.cpp", 1},
                                       "CUDA out of memory. Tried to allocate 2.00 GiB");
  EXPECT_TRUE(is_out_of_memory(cuda_oom));
  const Error converted = from_torch_error(cuda_oom, "model forward pass failed");
  EXPECT_EQ(converted.code, ErrorCode::resource_exhausted);
  EXPECT_EQ(converted.message.rfind("model forward pass failed: CUDA out of memory", 0), 0u) << converted.message;
  EXPECT_TRUE(is_out_of_memory(c10::Error({"f", "f.cpp", 1}, "CUDA error: out of memory")));
  EXPECT_TRUE(is_out_of_memory(c10::Error({"f", "f.cpp", 1}, "cuDNN error: CUDNN_STATUS_ALLOC_FAILED")));
}

TEST(TorchErrors, OtherLibTorchErrorsStayInternal) {
  try {
    (void)at::matmul(at::zeros({2, 3}), at::zeros({4, 5}));
    FAIL() << "mismatched shapes were accepted";
  } catch (const c10::Error& e) {
    EXPECT_FALSE(is_out_of_memory(e));
    EXPECT_EQ(from_torch_error(e, "x").code, ErrorCode::internal);
  }
}

#if defined(__SANITIZE_ADDRESS__)
#define FERRY_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FERRY_UNDER_ASAN 1
#endif
#endif

TEST(TorchErrors, ARealCpuAllocationFailureBecomesResourceExhausted) {
#ifdef FERRY_UNDER_ASAN
  GTEST_SKIP() << "AddressSanitizer aborts on impossible allocations instead of failing them";
#else
  // A petabyte: more than any address space, whatever the overcommit policy.
  try {
    at::Tensor impossible = at::empty({std::int64_t{1} << 48}, at::kFloat);
    FAIL() << "a petabyte was allocated";
  } catch (const c10::Error& e) {
    EXPECT_TRUE(is_out_of_memory(e)) << e.what_without_backtrace();
    EXPECT_EQ(from_torch_error(e, "x").code, ErrorCode::resource_exhausted);
  }
#endif
}

}  // namespace
}  // namespace ferry::models
