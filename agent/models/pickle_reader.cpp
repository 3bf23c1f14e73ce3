#include "agent/models/pickle_reader.hpp"

#include <array>
#include <cstring>

#include <fmt/format.h>

namespace ferry::models {
namespace {

struct StorageType {
  std::string_view name;
  ElementType type;
};
// The storage classes torch.save names in persistent ids. They are data
// (an element type), never constructed.
constexpr std::array<StorageType, 10> kStorageTypes{{
    {"HalfStorage", ElementType::f16},   {"FloatStorage", ElementType::f32},
    {"BFloat16Storage", ElementType::bf16}, {"DoubleStorage", ElementType::f64},
    {"LongStorage", ElementType::i64},   {"IntStorage", ElementType::i32},
    {"ShortStorage", ElementType::i16},  {"CharStorage", ElementType::i8},
    {"ByteStorage", ElementType::u8},    {"BoolStorage", ElementType::boolean},
}};

constexpr std::size_t kMaxGlobalName = 256;
constexpr std::size_t kMaxStorageKey = 64;

bool is_class(const ClassRef& ref, std::string_view module, std::string_view name) {
  return ref.module == module && ref.name == name;
}

}  // namespace

// The unpickling machine. A friend of Value so that it can fill containers
// in place while the pickle builds them.
class PickleMachine {
 public:
  PickleMachine(std::string_view bytes, const PickleLimits& limits) : bytes_(bytes), limits_(limits) {}

  Result<ValuePtr> run();

 private:
  using Mutable = std::shared_ptr<Value>;

  tl::unexpected<Error> error(ErrorCode code, const std::string& what) const {
    return fail(code, fmt::format("checkpoint pickle, opcode at offset {}: {}", op_offset_, what));
  }
  tl::unexpected<Error> corrupt(const std::string& what) const { return error(ErrorCode::data_loss, what); }

  // Input.
  bool take(std::size_t count, std::string_view& out) {
    if (count > bytes_.size() - pos_) return false;
    out = bytes_.substr(pos_, count);
    pos_ += count;
    return true;
  }
  Result<std::uint64_t> take_uint(int width) {
    std::string_view raw;
    if (!take(static_cast<std::size_t>(width), raw)) return corrupt("truncated operand");
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(raw[i]);
    return value;
  }
  Result<std::string> take_line() {
    const std::size_t end = bytes_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > kMaxGlobalName) return corrupt("malformed GLOBAL name");
    std::string line(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        return corrupt("GLOBAL name with non-printable characters");
      }
    }
    return line;
  }

  // Stack.
  Status push(Value::Data data) { return push_value(std::make_shared<Value>(std::move(data))); }
  Status push_value(Mutable value) {
    if (stack_.size() >= limits_.max_stack) return error(ErrorCode::resource_exhausted, "stack limit reached");
    stack_.push_back(std::move(value));
    return {};
  }
  Result<Mutable> pop() {
    if (stack_.size() <= floor()) return corrupt("stack underflow");
    Mutable v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Result<std::vector<Mutable>> pop_to_mark() {
    if (marks_.empty()) return corrupt("no MARK to pop to");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Mutable> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                               std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  Result<Mutable> top() {
    if (stack_.size() <= floor()) return corrupt("stack underflow");
    return stack_.back();
  }

  // Containers: a child placed in a parent is frozen, a frozen container
  // cannot change, so no cycle can form; sizes and depth are tracked.
  Status adopt(Value& parent, const Mutable& child) {
    if (&parent == child.get()) return error(ErrorCode::invalid_argument, "a container that contains itself");
    child->frozen_ = true;
    parent.nodes_ += child->nodes_;
    parent.depth_ = std::max(parent.depth_, child->depth_ + 1);
    if (parent.nodes_ > limits_.max_nodes) {
      return error(ErrorCode::resource_exhausted, fmt::format("more than {} values", limits_.max_nodes));
    }
    if (parent.depth_ > limits_.max_depth) {
      return error(ErrorCode::resource_exhausted, fmt::format("nesting deeper than {}", limits_.max_depth));
    }
    return {};
  }
  Result<Value*> mutable_container(const Mutable& target, Value::Kind kind) {
    if (target->kind() != kind) {
      return error(ErrorCode::invalid_argument,
                   fmt::format("expected a {} to add items to, got a {}", kind == Value::Kind::list ? "list" : "dict",
                               target->kind_name()));
    }
    if (target->frozen_) return error(ErrorCode::invalid_argument, "modifying a container after it was used");
    return target.get();
  }
  Status append(const Mutable& list, std::vector<Mutable> items) {
    auto target = mutable_container(list, Value::Kind::list);
    if (!target) return fail(target.error());
    for (auto& item : items) {
      if (auto ok = adopt(**target, item); !ok) return ok;
      std::get<static_cast<std::size_t>(Value::Kind::list)>((*target)->data_).items.push_back(std::move(item));
    }
    return {};
  }
  Status set_items(const Mutable& dict, std::vector<Mutable> items) {
    if (items.size() % 2 != 0) return corrupt("odd number of items for a dict");
    auto target = mutable_container(dict, Value::Kind::dict);
    if (!target) return fail(target.error());
    Value& d = **target;
    auto& entries = std::get<Dictionary>(d.data_).items;
    for (std::size_t i = 0; i < items.size(); i += 2) {
      std::string key;
      if (auto s = items[i]->as_string()) {
        key = "s:" + *s;
      } else if (auto n = items[i]->as_int()) {
        key = "i:" + std::to_string(*n);
      } else if (items[i]->is_none()) {
        key = "n:";
      } else {
        return error(ErrorCode::unsupported, fmt::format("dict key of type {}", items[i]->kind_name()));
      }
      if (auto ok = adopt(d, items[i]); !ok) return ok;
      if (auto ok = adopt(d, items[i + 1]); !ok) return ok;
      auto [it, inserted] = d.key_index_.emplace(std::move(key), entries.size());
      if (inserted) {
        entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
      } else {
        entries[it->second].second = std::move(items[i + 1]);  // Python keeps the last value
      }
    }
    return {};
  }
  Status push_tuple(std::vector<Mutable> items) {
    auto tuple = std::make_shared<Value>(
        Value::Data(std::in_place_index<static_cast<std::size_t>(Value::Kind::tuple)>, Sequence{}));
    for (auto& item : items) {
      if (auto ok = adopt(*tuple, item); !ok) return ok;
      std::get<static_cast<std::size_t>(Value::Kind::tuple)>(tuple->data_).items.push_back(std::move(item));
    }
    return push_value(std::move(tuple));
  }
  Status push_tuple_of(std::size_t count) {
    if (stack_.size() < floor() + count) return corrupt("stack underflow");
    std::vector<Mutable> items(std::make_move_iterator(stack_.end() - static_cast<std::ptrdiff_t>(count)),
                               std::make_move_iterator(stack_.end()));
    stack_.resize(stack_.size() - count);
    return push_tuple(std::move(items));
  }
  Status push_string(std::uint64_t length) {
    if (length > limits_.max_string) {
      return error(ErrorCode::resource_exhausted, fmt::format("string of {} bytes", length));
    }
    std::string_view raw;
    if (!take(static_cast<std::size_t>(length), raw)) return corrupt("string runs past the end");
    return push(std::string(raw));
  }
  Status push_long(std::uint64_t length) {
    if (length > 8) return error(ErrorCode::unsupported, fmt::format("integer of {} bytes", length));
    std::string_view raw;
    if (!take(static_cast<std::size_t>(length), raw)) return corrupt("integer runs past the end");
    std::uint64_t value = 0;
    for (std::size_t i = length; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(raw[i]);
    if (length > 0 && length < 8 && (static_cast<unsigned char>(raw[length - 1]) & 0x80)) {
      value |= ~std::uint64_t{0} << (8 * length);  // sign-extend
    }
    return push(static_cast<std::int64_t>(value));
  }
  Status memo_put(std::uint64_t index) {
    auto value = top();
    if (!value) return fail(value.error());
    if (memo_.size() >= limits_.max_memo && !memo_.count(index)) {
      return error(ErrorCode::resource_exhausted, "memo limit reached");
    }
    memo_[index] = *value;
    return {};
  }
  Status memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return corrupt(fmt::format("memo entry {} was never stored", index));
    return push_value(it->second);
  }

  Status reduce();
  Status persistent_id();
  Status build();
  Status step(unsigned char op);

  Result<Value::Data> rebuild_tensor(const std::vector<ValuePtr>& args);
  Result<Value::Data> rebuild_fraction(const std::vector<ValuePtr>& args);

  std::string_view bytes_;
  PickleLimits limits_;
  std::size_t pos_ = 0;
  std::size_t op_offset_ = 0;
  std::vector<Mutable> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Mutable> memo_;
  bool stopped_ = false;
};

Result<Value::Data> PickleMachine::rebuild_tensor(const std::vector<ValuePtr>& args) {
  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (args.size() < 6 || args.size() > 7) return corrupt("_rebuild_tensor_v2 with the wrong number of arguments");
  const auto* storage = std::get_if<StorageRef>(&args[0]->data());
  const auto offset = args[1]->as_int();
  const auto* sizes = args[2]->as_sequence();
  const auto* strides = args[3]->as_sequence();
  if (!storage || !offset || !sizes || !strides) return corrupt("_rebuild_tensor_v2 with malformed arguments");
  TensorRef tensor{*storage, TensorLayout{storage->type, {}, {}, *offset}};
  for (const auto& s : *sizes) {
    auto v = s->as_int();
    if (!v) return corrupt("tensor size that is not an integer");
    tensor.layout.sizes.push_back(*v);
  }
  for (const auto& s : *strides) {
    auto v = s->as_int();
    if (!v) return corrupt("tensor stride that is not an integer");
    tensor.layout.strides.push_back(*v);
  }
  if (auto ok = check_layout_fits(tensor.layout, storage->numel, "storage " + storage->key); !ok) {
    return fail(ok.error());
  }
  return Value::Data(std::move(tensor));
}

Result<Value::Data> PickleMachine::rebuild_fraction(const std::vector<ValuePtr>& args) {
  Fraction f;
  if (args.size() == 2 && args[0]->as_int() && args[1]->as_int()) {
    f = {*args[0]->as_int(), *args[1]->as_int()};
  } else if (args.size() == 1 && args[0]->as_int()) {
    f = {*args[0]->as_int(), 1};
  } else if (args.size() == 1 && args[0]->as_string()) {
    // Fraction.__reduce__ of older Pythons pickles str(self): "n" or "n/d".
    const std::string& text = *args[0]->as_string();
    std::int64_t num = 0, den = 1;
    const auto slash = text.find('/');
    try {
      std::size_t used = 0;
      num = std::stoll(text.substr(0, slash), &used);
      if (used != text.substr(0, slash).size()) throw std::invalid_argument("tail");
      if (slash != std::string::npos) {
        den = std::stoll(text.substr(slash + 1), &used);
        if (used != text.size() - slash - 1) throw std::invalid_argument("tail");
      }
    } catch (const std::exception&) {
      return corrupt("Fraction from an unreadable string '" + text.substr(0, 40) + "'");
    }
    f = {num, den};
  } else {
    return corrupt("Fraction with unsupported arguments");
  }
  if (f.denominator == 0) return corrupt("Fraction with a zero denominator");
  if (f.denominator < 0) {
    if (f.numerator == INT64_MIN || f.denominator == INT64_MIN) return corrupt("Fraction out of range");
    f = {-f.numerator, -f.denominator};
  }
  return Value::Data(f);
}

Status PickleMachine::reduce() {
  auto args = pop();
  if (!args) return fail(args.error());
  auto callable = pop();
  if (!callable) return fail(callable.error());
  const ClassRef* ref = (*callable)->as_class();
  if (!ref) return error(ErrorCode::invalid_argument, fmt::format("call of a {}", (*callable)->kind_name()));
  if ((*args)->kind() != Value::Kind::tuple) return corrupt("call arguments that are not a tuple");
  const auto& items = *(*args)->as_sequence();

  if (is_class(*ref, "collections", "OrderedDict")) {
    if (!items.empty()) return error(ErrorCode::unsupported, "OrderedDict built from arguments");
    return push(Dictionary{{}, true});
  }
  if (is_class(*ref, "torch._utils", "_rebuild_tensor_v2")) {
    auto tensor = rebuild_tensor(items);
    if (!tensor) return fail(tensor.error());
    return push(std::move(*tensor));
  }
  if (is_class(*ref, "torch._utils", "_rebuild_parameter")) {
    // _rebuild_parameter(data, requires_grad, backward_hooks): the data is the tensor.
    if (items.size() != 3 || !items[0]->as_tensor()) return corrupt("_rebuild_parameter with malformed arguments");
    return push(*items[0]->as_tensor());
  }
  if (is_class(*ref, "fractions", "Fraction")) {
    auto fraction = rebuild_fraction(items);
    if (!fraction) return fail(fraction.error());
    return push(std::move(*fraction));
  }
  return error(ErrorCode::permission_denied,
               fmt::format("refusing to call {} from the checkpoint: only tensors, OrderedDict and Fraction "
                           "are rebuilt, nothing else is executed",
                           ref->qualified()));
}

Status PickleMachine::persistent_id() {
  auto pid = pop();
  if (!pid) return fail(pid.error());
  const auto* items = (*pid)->kind() == Value::Kind::tuple ? (*pid)->as_sequence() : nullptr;
  if (!items || items->size() != 5 || !(*items)[0]->as_string() || *(*items)[0]->as_string() != "storage") {
    return error(ErrorCode::unsupported, "persistent id that is not a ('storage', ...) tuple");
  }
  const ClassRef* type = (*items)[1]->as_class();
  const std::string* key = (*items)[2]->as_string();
  const auto numel = (*items)[4]->as_int();
  if (!type || !key || !(*items)[3]->as_string() || !numel || *numel < 0) {
    return corrupt("malformed storage persistent id");
  }
  if (key->empty() || key->size() > kMaxStorageKey || key->find('/') != std::string::npos) {
    return corrupt("storage key that is not a plain name");
  }
  for (const auto& known : kStorageTypes) {
    if (type->module == "torch" && type->name == known.name) {
      return push(StorageRef{*key, known.type, *numel});
    }
  }
  return error(ErrorCode::unsupported, "unsupported storage type " + type->qualified());
}

Status PickleMachine::build() {
  auto state = pop();
  if (!state) return fail(state.error());
  auto target = top();
  if (!target) return fail(target.error());
  // torch.save pickles OrderedDict state dicts with their `_metadata`
  // attribute, set by BUILD. Attributes carry nothing we use; they are
  // dropped. BUILD on anything else would set state on an arbitrary object.
  if ((*target)->kind() != Value::Kind::dict) {
    return error(ErrorCode::permission_denied,
                 fmt::format("refusing BUILD on a {}: only dict attributes may be set", (*target)->kind_name()));
  }
  if ((*state)->kind() != Value::Kind::dict && !(*state)->is_none() && (*state)->kind() != Value::Kind::tuple) {
    return corrupt("BUILD with a state that is not a dict");
  }
  return {};
}

Status PickleMachine::step(unsigned char op) {
  switch (op) {
    case 0x80: {  // PROTO
      auto v = take_uint(1);
      if (!v) return fail(v.error());
      if (*v > 5) return error(ErrorCode::unsupported, fmt::format("pickle protocol {}", *v));
      return {};
    }
    case 0x95: {  // FRAME: advisory length of the next frame
      auto v = take_uint(8);
      return v ? Status{} : fail(v.error());
    }
    case '.': stopped_ = true; return {};  // STOP
    case '(':  // MARK
      if (marks_.size() >= limits_.max_stack) return error(ErrorCode::resource_exhausted, "too many MARKs");
      marks_.push_back(stack_.size());
      return {};
    case '0': { auto v = pop(); return v ? Status{} : fail(v.error()); }  // POP
    case '1': { auto v = pop_to_mark(); return v ? Status{} : fail(v.error()); }  // POP_MARK
    case '2': { auto v = top(); return v ? push_value(*v) : fail(v.error()); }  // DUP
    case 'N': return push(NoneValue{});
    case 0x88: return push(true);   // NEWTRUE
    case 0x89: return push(false);  // NEWFALSE
    case 'K': { auto v = take_uint(1); return v ? push(static_cast<std::int64_t>(*v)) : fail(v.error()); }
    case 'M': { auto v = take_uint(2); return v ? push(static_cast<std::int64_t>(*v)) : fail(v.error()); }
    case 'J': {  // BININT: signed 32-bit
      auto v = take_uint(4);
      return v ? push(static_cast<std::int64_t>(static_cast<std::int32_t>(*v))) : fail(v.error());
    }
    case 0x8a: { auto n = take_uint(1); return n ? push_long(*n) : fail(n.error()); }  // LONG1
    case 0x8b: { auto n = take_uint(4); return n ? push_long(*n) : fail(n.error()); }  // LONG4
    case 'G': {  // BINFLOAT: big-endian IEEE double
      std::string_view raw;
      if (!take(8, raw)) return corrupt("truncated float");
      std::uint64_t bits = 0;
      for (char c : raw) bits = (bits << 8) | static_cast<unsigned char>(c);
      double value;
      std::memcpy(&value, &bits, sizeof value);
      return push(value);
    }
    case 'X': { auto n = take_uint(4); return n ? push_string(*n) : fail(n.error()); }     // BINUNICODE
    case 0x8c: { auto n = take_uint(1); return n ? push_string(*n) : fail(n.error()); }    // SHORT_BINUNICODE
    case 0x8d: { auto n = take_uint(8); return n ? push_string(*n) : fail(n.error()); }    // BINUNICODE8
    case ')': return push_tuple({});                                                        // EMPTY_TUPLE
    case 0x85: return push_tuple_of(1);                                                     // TUPLE1
    case 0x86: return push_tuple_of(2);                                                     // TUPLE2
    case 0x87: return push_tuple_of(3);                                                     // TUPLE3
    case 't': { auto items = pop_to_mark(); return items ? push_tuple(std::move(*items)) : fail(items.error()); }
    case ']': return push(Value::Data(std::in_place_index<static_cast<std::size_t>(Value::Kind::list)>, Sequence{}));
    case 'l': {  // LIST
      auto items = pop_to_mark();
      if (!items) return fail(items.error());
      auto list = std::make_shared<Value>(
          Value::Data(std::in_place_index<static_cast<std::size_t>(Value::Kind::list)>, Sequence{}));
      if (auto ok = append(list, std::move(*items)); !ok) return ok;
      return push_value(std::move(list));
    }
    case 'a': {  // APPEND
      auto item = pop();
      if (!item) return fail(item.error());
      auto list = top();
      return list ? append(*list, {std::move(*item)}) : fail(list.error());
    }
    case 'e': {  // APPENDS
      auto items = pop_to_mark();
      if (!items) return fail(items.error());
      auto list = top();
      return list ? append(*list, std::move(*items)) : fail(list.error());
    }
    case '}': return push(Dictionary{});
    case 'd': {  // DICT
      auto items = pop_to_mark();
      if (!items) return fail(items.error());
      auto dict = std::make_shared<Value>(Dictionary{});
      if (auto ok = set_items(dict, std::move(*items)); !ok) return ok;
      return push_value(std::move(dict));
    }
    case 's': {  // SETITEM
      auto value = pop();
      if (!value) return fail(value.error());
      auto key = pop();
      if (!key) return fail(key.error());
      auto dict = top();
      return dict ? set_items(*dict, {std::move(*key), std::move(*value)}) : fail(dict.error());
    }
    case 'u': {  // SETITEMS
      auto items = pop_to_mark();
      if (!items) return fail(items.error());
      auto dict = top();
      return dict ? set_items(*dict, std::move(*items)) : fail(dict.error());
    }
    case 'c': {  // GLOBAL: kept as a name, never resolved
      auto module = take_line();
      if (!module) return fail(module.error());
      auto name = take_line();
      if (!name) return fail(name.error());
      return push(ClassRef{std::move(*module), std::move(*name)});
    }
    case 0x93: {  // STACK_GLOBAL
      auto name = pop();
      if (!name) return fail(name.error());
      auto module = pop();
      if (!module) return fail(module.error());
      if (!(*name)->as_string() || !(*module)->as_string()) return corrupt("STACK_GLOBAL without two strings");
      return push(ClassRef{*(*module)->as_string(), *(*name)->as_string()});
    }
    case 'R': return reduce();
    case 'Q': return persistent_id();
    case 'b': return build();
    case 'q': { auto i = take_uint(1); return i ? memo_put(*i) : fail(i.error()); }    // BINPUT
    case 'r': { auto i = take_uint(4); return i ? memo_put(*i) : fail(i.error()); }    // LONG_BINPUT
    case 0x94: return memo_put(memo_.size());                                          // MEMOIZE
    case 'h': { auto i = take_uint(1); return i ? memo_get(*i) : fail(i.error()); }    // BINGET
    case 'j': { auto i = take_uint(4); return i ? memo_get(*i) : fail(i.error()); }    // LONG_BINGET
    case 'i': case 'o': case 0x81: case 0x92: case 0x82: case 0x83: case 0x84: case 'P': {
      static const std::unordered_map<unsigned char, std::string_view> names{
          {'i', "INST"}, {'o', "OBJ"}, {0x81, "NEWOBJ"}, {0x92, "NEWOBJ_EX"},
          {0x82, "EXT1"}, {0x83, "EXT2"}, {0x84, "EXT4"}, {'P', "PERSID"}};
      return error(ErrorCode::permission_denied,
                   fmt::format("refusing opcode {}: it builds arbitrary objects, which a checkpoint never needs",
                               names.at(op)));
    }
    default:
      return error(ErrorCode::unsupported,
                   fmt::format("unsupported pickle opcode 0x{:02x} (not among those torch.save writes)", op));
  }
}

Result<ValuePtr> PickleMachine::run() {
  while (!stopped_) {
    if (pos_ >= bytes_.size()) {
      op_offset_ = pos_;
      return corrupt("pickle ends without STOP (truncated file?)");
    }
    op_offset_ = pos_;
    const auto op = static_cast<unsigned char>(bytes_[pos_++]);
    if (auto ok = step(op); !ok) return fail(ok.error());
  }
  auto result = pop();
  if (!result) return fail(result.error());
  return ValuePtr(std::move(*result));
}

Result<ValuePtr> read_pickle(std::string_view bytes, const PickleLimits& limits) {
  PickleMachine machine(bytes, limits);
  return machine.run();
}

}  // namespace ferry::models
