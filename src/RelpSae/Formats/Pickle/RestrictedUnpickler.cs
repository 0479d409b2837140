using System.Buffers.Binary;
using System.Text;

namespace RelpSae.Formats.Pickle;

/// <summary>
/// A pickle reader for PyTorch state dicts and nothing more: the protocol 2–5 opcodes that build
/// dicts, tuples, lists, numbers, strings, booleans and None, the memo, persistent ids naming
/// storages, and globals from <see cref="PickleAllowList"/>. Python tuples become object?[], lists
/// List&lt;object?&gt;, dicts OrderedDictionary&lt;object, object?&gt;, ints long, floats double.
/// Every length is checked against the bytes left before anything is allocated, and the objects,
/// stack and memo a pickle may build are capped (<see cref="MaxObjects"/>), so a small file cannot
/// take gigabytes; dict keys hash with a seeded comparer, so colliding keys cannot make it quadratic.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly object Mark = new();

    /// <summary>
    /// Containers, stack slots and memo entries a pickle may hold. A GPT-2 XL state dict needs about
    /// 10 per tensor (some 6k); a million is generous and keeps the worst case near 100 MB.
    /// </summary>
    public const int MaxObjects = 1 << 20;

    private readonly byte[] _data;
    private readonly string _file;
    private readonly List<object?> _stack = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;
    private int _objects;

    private RestrictedUnpickler(byte[] data, string file) => (_data, _file) = (data, file);

    /// <summary>Unpickles <paramref name="data"/>; <paramref name="file"/> names it in error messages.</summary>
    public static object? Load(byte[] data, string file) => new RestrictedUnpickler(data, file).Run();

    private object? Run()
    {
        while (true)
        {
            byte op = Bytes(1)[0];
            if (_stack.Count > MaxObjects || _memo.Count > MaxObjects)
                Fail($"the pickle holds more than {MaxObjects} objects, more than a state dict needs");
            switch (op)
            {
                case 0x80: Bytes(1); break;                                    // PROTO
                case 0x95: Bytes(8); break;                                    // FRAME: framing is only a hint
                case (byte)'.': return _stack.Count == 1 ? Pop() : Fail("the pickle ends with a malformed stack"); // STOP
                case (byte)'(': _stack.Add(Mark); break;                       // MARK
                case (byte)'N': _stack.Add(null); break;                       // NONE
                case 0x88: _stack.Add(true); break;                            // NEWTRUE
                case 0x89: _stack.Add(false); break;                           // NEWFALSE
                case (byte)'K': _stack.Add((long)Bytes(1)[0]); break;          // BININT1
                case (byte)'M': _stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break; // BININT2
                case (byte)'J': _stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;  // BININT
                case 0x8a: _stack.Add(Long(Bytes(1)[0])); break;               // LONG1
                case 0x8b: _stack.Add(Long(Length(4))); break;                 // LONG4
                case (byte)'G': _stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break; // BINFLOAT
                case (byte)'X': _stack.Add(Text(Length(4))); break;            // BINUNICODE
                case 0x8c: _stack.Add(Text(Bytes(1)[0])); break;               // SHORT_BINUNICODE
                case 0x8d: _stack.Add(Text(Length(8))); break;                 // BINUNICODE8
                case (byte)']': _stack.Add(Count(new List<object?>())); break;        // EMPTY_LIST
                case (byte)'}': _stack.Add(NewDict()); break;                 // EMPTY_DICT
                case (byte)')': _stack.Add(Array.Empty<object?>()); break;     // EMPTY_TUPLE
                case (byte)'t': _stack.Add(Count(PopMark())); break;           // TUPLE
                case 0x85: _stack.Add(Count(PopN(1))); break;                  // TUPLE1
                case 0x86: _stack.Add(Count(PopN(2))); break;                  // TUPLE2
                case 0x87: _stack.Add(Count(PopN(3))); break;                  // TUPLE3
                case (byte)'l': _stack.Add(Count(PopMark().ToList())); break;  // LIST
                case (byte)'d': _stack.Add(SetItems(NewDict(), PopMark())); break; // DICT
                case (byte)'a': { Spend(1); var item = Pop(); Top<List<object?>>("APPEND").Add(item); break; } // APPEND
                case (byte)'e': { var items = PopMark(); Top<List<object?>>("APPENDS").AddRange(items); break; } // APPENDS
                case (byte)'s': { var pair = PopN(2); Spend(2); SetItems(Top<OrderedDictionary<object, object?>>("SETITEM"), pair); break; } // SETITEM
                case (byte)'u': { var items = PopMark(); SetItems(Top<OrderedDictionary<object, object?>>("SETITEMS"), items); break; } // SETITEMS
                case (byte)'q': _memo[Bytes(1)[0]] = Peek(); break;            // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break;                 // MEMOIZE
                case (byte)'h': _stack.Add(Get(Bytes(1)[0])); break;           // BINGET
                case (byte)'j': _stack.Add(Get(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))); break; // LONG_BINGET
                case (byte)'c': _stack.Add(PickleAllowList.Resolve(Line(), Line(), _file)); break; // GLOBAL
                case 0x93: { var pair = PopN(2); _stack.Add(StackGlobal(pair)); break; } // STACK_GLOBAL
                case (byte)'R': { var args = Pop(); var callable = Pop(); _stack.Add(Count(Reduce(callable, args))); break; } // REDUCE
                case (byte)'Q': _stack.Add(Count(PersistentLoad(Pop()))); break; // BINPERSID
                case (byte)'b': Build(); break;                                // BUILD
                default: Fail($"pickle opcode 0x{op:x2} at byte {_pos - 1} is not supported"); break;
            }
        }
    }

    /// <summary>Counts one more container built; refuses a pickle that builds more than a state dict could need.</summary>
    private T Count<T>(T container)
    {
        Spend(1);
        return container;
    }

    /// <summary>Counts objects and container slots alike, so neither many containers nor huge ones get past the cap.</summary>
    private void Spend(int n)
    {
        _objects += n;
        if (_objects > MaxObjects) throw Error($"the pickle builds more than {MaxObjects} objects, more than a state dict needs");
    }

    private OrderedDictionary<object, object?> NewDict() => Count(new OrderedDictionary<object, object?>(PickleKeyComparer.Instance));

    private RelpSaeException Error(string what) => new($"{what} in {_file}");
    private object? Fail(string what) => throw Error(what);

    private ReadOnlySpan<byte> Bytes(int n)
    {
        if (n > _data.Length - _pos) throw Error("the pickle is truncated");
        var span = _data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    /// <summary>A length prefix, refused before allocation when it exceeds what is left.</summary>
    private int Length(int width)
    {
        ulong n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)) : BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));
        return n <= (ulong)(_data.Length - _pos) ? (int)n : throw Error($"the pickle has a length of {n} bytes with only {_data.Length - _pos} left");
    }

    private long Long(int n)
    {
        if (n > 8) throw Error($"the pickle has an integer of {n} bytes, too large");
        var bytes = Bytes(n);
        if (n == 0) return 0;
        long value = bytes[n - 1] >= 0x80 ? -1 : 0;   // sign-extend two's complement
        for (int i = n - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        return value;
    }

    private string Text(int n)
    {
        var bytes = Bytes(n);
        try { return StrictUtf8.GetString(bytes); }
        catch (ArgumentException) { throw Error("the pickle has a string that is not valid UTF-8"); }
    }

    /// <summary>GLOBAL's module and name: newline-terminated ASCII.</summary>
    private string Line()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Error("the pickle is truncated inside a GLOBAL");
        var text = Text(end - _pos);
        _pos++;
        return text;
    }

    private object? Pop()
    {
        if (_stack.Count == 0 || _stack[^1] == Mark) throw Error("the pickle pops an empty stack");
        var top = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return top;
    }

    private object? Peek() => _stack.Count == 0 || _stack[^1] == Mark ? throw Error("the pickle memoizes an empty stack") : _stack[^1];

    private T Top<T>(string op) where T : class => Peek() as T ?? throw Error($"the pickle's {op} targets a {Describe(Peek())}");

    private object?[] PopN(int n)
    {
        var items = new object?[n];
        for (int i = n - 1; i >= 0; i--) items[i] = Pop();
        return items;
    }

    private object?[] PopMark()
    {
        int mark = _stack.LastIndexOf(Mark);
        if (mark < 0) throw Error("the pickle has no MARK to pop to");
        Spend(_stack.Count - mark - 1);   // the items move into a tuple, list or dict
        var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Get(long index) => _memo.TryGetValue(index, out var value) ? value : throw Error($"the pickle reads memo {index}, never written");

    private OrderedDictionary<object, object?> SetItems(OrderedDictionary<object, object?> dict, object?[] items)
    {
        if (items.Length % 2 != 0) throw Error("the pickle sets a dict item without a value");
        for (int i = 0; i < items.Length; i += 2)
            dict[items[i] is string or long or bool or double ? items[i]! : throw Error($"the pickle uses a {Describe(items[i])} as a dict key")] = items[i + 1];
        return dict;
    }

    private PickleGlobal StackGlobal(object?[] pair) =>
        pair is [string module, string name] ? PickleAllowList.Resolve(module, name, _file) : throw Error("the pickle's STACK_GLOBAL does not name a module and a name");

    private object Reduce(object? callable, object? args) => callable is PickleGlobal g && args is object?[] tuple
        ? PickleAllowList.Call(g, tuple, _file)
        : throw Error($"the pickle calls a {Describe(callable)}, not an allowed global");

    // ('storage', torch.XStorage, key, location, numel), as torch.save writes it.
    private StorageRef PersistentLoad(object? pid)
    {
        if (pid is not object?[] { Length: 5 } t || t[0] is not "storage" || t[1] is not PickleGlobal type
            || t[2] is not string key || t[3] is not string || t[4] is not long count || count < 0)
            throw Error("the pickle has a persistent id that is not ('storage', type, key, location, numel)");
        var dtype = PickleAllowList.StorageDType(type) ?? throw Error($"the pickle uses {type} as a storage type");
        return new StorageRef(dtype, key, count);
    }

    // BUILD sets attributes; state dicts only use it for OrderedDict._metadata (version numbers), which we do not need.
    private void Build()
    {
        var state = Pop();
        if (Peek() is not OrderedDictionary<object, object?> || state is not (null or OrderedDictionary<object, object?>))
            throw Error($"the pickle's BUILD sets the state of a {Describe(Peek())}");
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        PickleGlobal g => g.ToString(),
        _ when o == Mark => "MARK",
        object?[] => "tuple",
        _ => o.GetType().Name,
    };
}
