using System.Buffers.Binary;
using System.Text;
using RelpSae.Text;

namespace RelpSae.Formats;

/// <summary>
/// A .npy array's header (magic, version, length, then a Python dict literal such as
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>), read from the start of its
/// stream, with where the data starts and how many bytes the shape declares. The dict is read by a
/// small parser in one pass (a pattern with backtracking took seconds on a long repetitive header),
/// and the declared size must be what the entry holds, so nothing is allocated on a header's word alone.
/// </summary>
internal sealed record NpyHeader(TensorHeader Tensor, int DataStart, long DataBytes)
{
    /// <summary>numpy's own default (<c>max_header_size</c>): a longer header is refused unparsed.</summary>
    public const int MaxLength = 10_000;

    /// <summary>Reads the header from <paramref name="stream"/>, an entry of <paramref name="entryLength"/> bytes.</summary>
    public static NpyHeader Read(Stream stream, long entryLength, string name, string what)
    {
        Span<byte> preamble = stackalloc byte[12];
        Fill(stream, preamble[..10], what);
        if (preamble[0] != 0x93 || !preamble[1..6].SequenceEqual("NUMPY"u8))
            throw new RelpSaeException($"{what}: not a .npy array (bad magic)");
        int major = preamble[6];
        if (major is < 1 or > 3) throw new RelpSaeException($"{what}: .npy version {major} is not supported");
        int headerStart = major == 1 ? 10 : 12;
        if (major > 1) Fill(stream, preamble[10..12], what);
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        if (headerLength > MaxLength)
            throw new RelpSaeException($"{what}: a header of {headerLength} bytes, more than numpy's {MaxLength}");
        int dataStart = headerStart + (int)headerLength;
        if (dataStart > entryLength) throw new RelpSaeException($"{what}: the header runs past the end of the array");
        var header = new byte[headerLength];
        Fill(stream, header, what);
        var dict = new DictLiteral(major == 3 ? Encoding.UTF8.GetString(header) : Encoding.Latin1.GetString(header), what).Parse();
        var type = Type(dict.Descr, dict.FortranOrder, what);
        long count = 1;
        foreach (int d in dict.Shape)
            if ((count *= d) > Array.MaxLength)
                throw new RelpSaeException($"{what}: shape {Python(dict.Shape)} is more elements than one array can hold");
        long dataBytes = checked(count * type.Size());
        if (dataStart + dataBytes != entryLength)
            throw new RelpSaeException($"{what}: shape {Python(dict.Shape)} of {dict.Descr} is {dataBytes} bytes, but the entry holds {entryLength - dataStart} after its header");
        return new NpyHeader(new TensorHeader(name, dict.Shape, type), dataStart, dataBytes);
    }

    private static void Fill(Stream stream, Span<byte> bytes, string what)
    {
        try { stream.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw new RelpSaeException($"{what}: the array ends inside its header"); }
    }

    /// <summary>Little-endian numeric dtypes in C order; anything else is refused by name.</summary>
    private static DType Type(string descr, bool fortranOrder, string what)
    {
        if (fortranOrder) throw new RelpSaeException($"{what}: Fortran-ordered arrays are not supported");
        if (descr.StartsWith('>')) throw new RelpSaeException($"{what}: big-endian arrays are not supported");
        return (descr.Length > 0 && descr[0] is '<' or '|' or '=' ? descr[1..] : "") switch
        {
            "f2" => DType.F16, "f4" => DType.F32, "f8" => DType.F64,
            "i4" => DType.I32, "i8" => DType.I64, "u1" => DType.U8,
            _ => throw new RelpSaeException($"{what}: dtype {StrictText.Excerpt(descr, 20)} is not supported"),
        };
    }

    /// <summary>A shape as numpy writes it: (4, 6), (4,) or ().</summary>
    private static string Python(int[] shape) => shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    /// <summary>The header's dict literal: each of 'descr', 'fortran_order' and 'shape' exactly once, nothing else.</summary>
    private sealed class DictLiteral(string text, string what)
    {
        private int _at;

        public (string Descr, bool FortranOrder, int[] Shape) Parse()
        {
            string? descr = null;
            bool? fortranOrder = null;
            int[]? shape = null;
            Expect('{');
            while (!Take('}'))
            {
                string key = Quoted("a key");
                Expect(':');
                if (key is "descr" && descr is null) descr = Quoted("'descr'");
                else if (key is "fortran_order" && fortranOrder is null) fortranOrder = Boolean();
                else if (key is "shape" && shape is null) shape = Tuple();
                else if (key is "descr" or "fortran_order" or "shape") throw Fail($"the header gives '{key}' twice");
                else throw Fail($"the header has the key {StrictText.Excerpt(key, 20)}; a .npy header holds 'descr', 'fortran_order' and 'shape'");
                if (!Take(',')) { Expect('}'); break; }
            }
            Space();
            if (_at != text.Length) throw Fail($"text after the header's closing brace at character {_at}");
            return (descr ?? throw Missing("descr"), fortranOrder ?? throw Missing("fortran_order"), shape ?? throw Missing("shape"));
        }

        private RelpSaeException Fail(string message) => new($"{what}: {message}");

        private RelpSaeException Missing(string key) => Fail($"the header lacks '{key}'");

        private void Space()
        {
            while (_at < text.Length && text[_at] is ' ' or '\t' or '\n' or '\r') _at++;
        }

        private bool Take(char c)
        {
            Space();
            if (_at == text.Length || text[_at] != c) return false;
            _at++;
            return true;
        }

        private void Expect(char c)
        {
            if (!Take(c))
                throw Fail($"the header is not a Python dict literal (expected '{c}' at character {_at}: {StrictText.Excerpt(text[_at..], 20)})");
        }

        /// <summary>A string in single or double quotes, without escapes (numpy writes none).</summary>
        private string Quoted(string role)
        {
            Space();
            int end = _at < text.Length && text[_at] is '\'' or '"' ? text.IndexOf(text[_at], _at + 1) : -1;
            if (end < 0) throw Fail($"the header's {role} at character {_at} is not a quoted string");
            string value = text[(_at + 1)..end];
            _at = end + 1;
            return value;
        }

        private bool Boolean()
        {
            Space();
            foreach (var (word, value) in new[] { ("True", true), ("False", false) })
                if (text.AsSpan(_at).StartsWith(word, StringComparison.Ordinal)) { _at += word.Length; return value; }
            throw Fail("the header's 'fortran_order' is not True or False");
        }

        /// <summary>A tuple of whole numbers: (), (4,), (4, 6) or (4, 6,).</summary>
        private int[] Tuple()
        {
            Expect('(');
            var dims = new List<int>();
            while (!Take(')'))
            {
                int start = _at;
                while (_at < text.Length && char.IsAsciiDigit(text[_at])) _at++;
                if (!int.TryParse(text.AsSpan(start, _at - start), out int d))
                    throw Fail($"the header's 'shape' is not a tuple of whole numbers below 2^31 (at character {start})");
                dims.Add(d);
                if (!Take(',')) { Expect(')'); break; }
            }
            return [.. dims];
        }
    }
}
