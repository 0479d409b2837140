using System.Text;

namespace RelpSae.Text;

/// <summary>
/// One .jsonl line too long to hold (over a segment): its text field's string value streams, unescaped,
/// into a <see cref="PieceCutter"/>, while everything else in the line is kept as a skeleton with that
/// value replaced by "" — small, and parsed as JSON at the line's end, so the line is checked as strictly
/// as a short one. Only strings need lexing to find the value: structure outside them is one character.
/// Without a cutter the field holds token ids instead: its array of integers streams the same way
/// (<see cref="TakeIds"/>), with "[0]" in the skeleton.
/// </summary>
sealed class LongJsonLine(string path, int number, string field, PieceCutter? cutter)
{
    readonly StringBuilder _skeleton = new(), _key = new(), _value = new();
    int _depth;
    bool _inString, _isKey, _escaped, _expectKey, _keyIsField, _afterFieldColon, _inValue, _sawValue;
    string _escape = "";      // a value's escape read so far ("\u12" across a segment boundary)
    char? _high;              // a value's high-surrogate escape, waiting for its low half
    readonly List<int> _ids = [];
    long? _id;                // the digits of the id being read
    bool _inIds, _afterId;

    /// <summary>Reads one segment of the line; returns the pieces of the value completed by it.</summary>
    public List<Piece<string>> Read(string segment)
    {
        _value.Clear();
        foreach (char c in segment)
        {
            if (_inIds) Id(c);
            else if (_inValue) Value(c);
            else Outside(c);
        }
        if (_skeleton.Length > StrictText.MaxLineBytes) Fail($"longer than {StrictText.MaxLineBytes >> 20} MiB outside field \"{field}\"; split the document");
        return cutter?.Append(_value.ToString(), number) ?? [];
    }

    /// <summary>The ids read since the last call (a field of token ids).</summary>
    public int[] TakeIds()
    {
        var ids = _ids.ToArray();
        _ids.Clear();
        return ids;
    }

    /// <summary>The skeleton of the line, to be parsed; true when the field's value was streamed.</summary>
    public (string Skeleton, bool Streamed) End()
    {
        if (_inValue || _inIds) Fail($"field \"{field}\" is not closed");
        return (_skeleton.ToString(), _sawValue);
    }

    void Outside(char c)
    {
        _skeleton.Append(c);
        if (_inString)
        {
            if (_escaped) _escaped = false;
            else if (c == '\\') _escaped = true;
            else if (c == '"') { _inString = false; _keyIsField = _isKey && _key.ToString() == field; }
            // The key as written (a field name spelled with escapes is not recognised, and its value counts as skeleton).
            if (_inString && _key.Length <= field.Length) _key.Append(c);
            return;
        }
        switch (c)
        {
            case '[' when _afterFieldColon && !_sawValue && cutter is null:
                _skeleton.Append("0]");   // "[0]": the ids go to TakeIds
                _inIds = _sawValue = true;
                _afterFieldColon = false;
                return;
            case '"' when _afterFieldColon && !_sawValue && cutter is not null:
                _skeleton.Append('"');   // the value's closing quote, written now; its text goes to the cutter
                _inValue = _sawValue = true;
                _afterFieldColon = false;
                return;
            case '"':
                _inString = true;
                _isKey = _expectKey && _depth == 1;
                _key.Clear();
                return;
            case '{' or '[': _depth++; _expectKey = c == '{' && _depth == 1; break;
            case '}' or ']': _depth--; break;
            case ',': _expectKey = _depth == 1; break;
            case ':' when _depth == 1: _expectKey = false; _afterFieldColon = _keyIsField && !_sawValue; return;
        }
        if (!char.IsWhiteSpace(c)) _afterFieldColon = false;
    }

    void Value(char c)
    {
        if (_escape.Length == 0)
        {
            if (c == '\\') { _escape = "\\"; return; }
            if (_high is not null) LoneSurrogate();
            if (c == '"') { _inValue = false; return; }
            if (c < ' ') Fail($"field \"{field}\" holds a raw control character (U+{(int)c:X4}), not valid JSON");
            _value.Append(c);
            return;
        }
        _escape += c;
        if (_escape.Length == 2 && c != 'u')
        {
            _escape = "";
            if (_high is not null) LoneSurrogate();
            _value.Append(c switch
            {
                '"' or '\\' or '/' => c, 'b' => '\b', 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t',
                _ => Fail($"field \"{field}\" holds the escape \\{c}, not valid JSON"),
            });
        }
        else if (_escape.Length == 6)
        {
            if (!ushort.TryParse(_escape.AsSpan(2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var code))
                Fail($"field \"{field}\" holds the escape {StrictText.Excerpt(_escape)}, not valid JSON");
            _escape = "";
            char u = (char)code;
            if (_high is { } high)
            {
                if (!char.IsLowSurrogate(u)) LoneSurrogate();
                _value.Append(high).Append(u);
                _high = null;
            }
            else if (char.IsHighSurrogate(u)) _high = u;
            else if (char.IsLowSurrogate(u)) LoneSurrogate();
            else _value.Append(u);
        }
    }

    void Id(char c)
    {
        if (c is >= '0' and <= '9')
        {
            if (_afterId || _id == 0) BadIds();   // two numbers without a comma, or a leading zero
            _id = (_id ?? 0) * 10 + (c - '0');
            if (_id > int.MaxValue) BadIds();
            return;
        }
        if (_id is { } id) { _ids.Add((int)id); _id = null; _afterId = true; }
        if (c is ' ' or '\t' or '\r') return;
        if (c == ',' && _afterId) _afterId = false;
        else if (c == ']' && _afterId) _inIds = false;
        else BadIds();
    }

    void BadIds() => Fail($"field \"{field}\" must be a non-empty array of token ids");

    void LoneSurrogate() => Fail($"field \"{field}\" holds a lone surrogate (an escape like \\ud800 without its pair), not text");

    char Fail(string message) => throw new RelpSaeException($"{path} line {number}: {message}");
}
