#pragma once
// The values a restricted unpickler can produce. Nothing here refers to
// Python objects: class references are kept as names, tensors as references
// to storages of the archive, and nothing is ever called.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "agent/models/tensor_data.hpp"

namespace ferry::models {

class Value;
/// Values are shared: the pickle memo lets one object appear in several places.
using ValuePtr = std::shared_ptr<const Value>;

/// `None`.
struct NoneValue {};
/// A class or function named by a GLOBAL opcode, e.g. {"demucs.htdemucs", "HTDemucs"}.
/// It is data only: the reader never resolves or calls it.
struct ClassRef {
  std::string module;
  std::string name;
  /// "module.name".
  std::string qualified() const { return module + "." + name; }
};
/// `fractions.Fraction`, normalised so that the denominator is positive.
struct Fraction {
  std::int64_t numerator = 0;
  std::int64_t denominator = 1;
  double to_double() const { return static_cast<double>(numerator) / static_cast<double>(denominator); }
};
/// A tensor storage named by a persistent id: ('storage', torch.HalfStorage, key, location, numel).
struct StorageRef {
  std::string key;  ///< entry `<archive>/data/<key>`
  ElementType type = ElementType::f32;
  std::int64_t numel = 0;
};
/// A tensor rebuilt by `torch._utils._rebuild_tensor_v2`: a view of a storage.
struct TensorRef {
  StorageRef storage;
  TensorLayout layout;  ///< layout.type == storage.type
};
/// A list or tuple.
struct Sequence {
  std::vector<ValuePtr> items;
};
/// A dict or `collections.OrderedDict`; insertion order is kept.
struct Dictionary {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
  bool ordered = false;  ///< built from collections.OrderedDict
};

/// One unpickled value.
class Value {
 public:
  enum class Kind { none, boolean, integer, real, string, list, tuple, dict, class_ref, fraction, storage, tensor };
  using Data = std::variant<NoneValue, bool, std::int64_t, double, std::string, Sequence /*list*/,
                            Sequence /*tuple*/, Dictionary, ClassRef, Fraction, StorageRef, TensorRef>;

  explicit Value(Data data) : data_(std::move(data)) {}
  Kind kind() const { return static_cast<Kind>(data_.index()); }
  const Data& data() const { return data_; }
  /// Human name of the kind ("dict", "tensor", ...) for messages.
  std::string_view kind_name() const;

  bool is_none() const { return kind() == Kind::none; }
  std::optional<bool> as_bool() const;
  /// Integers (and booleans, as Python treats them).
  std::optional<std::int64_t> as_int() const;
  /// Floats, integers and fractions as a double.
  std::optional<double> as_number() const;
  const std::string* as_string() const;
  /// Items of a list or a tuple.
  const std::vector<ValuePtr>* as_sequence() const;
  const Dictionary* as_dict() const;
  const ClassRef* as_class() const;
  const Fraction* as_fraction() const;
  const TensorRef* as_tensor() const;

  /// The value under string key `key` of a dict, or nullptr.
  const Value* get(std::string_view key) const;

 private:
  friend class PickleMachine;
  Data data_;
  // Bookkeeping for the reader's limits: total nodes reachable (counting
  // shared ones each time), nesting depth, and whether the value has been
  // placed inside another one (after which it may no longer change, which
  // rules out cycles).
  std::uint64_t nodes_ = 1;
  std::uint32_t depth_ = 1;
  bool frozen_ = false;
  // Position of each key of a dict, so building a large dict stays linear.
  std::unordered_map<std::string, std::size_t> key_index_;
};

}  // namespace ferry::models
