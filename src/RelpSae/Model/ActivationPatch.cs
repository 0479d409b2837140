namespace RelpSae.Model;

/// <summary>
/// Replaces part of one row of a hook's activation during a forward pass: <see cref="Values"/> are
/// written at columns <see cref="Column"/>.. of row <see cref="Row"/> (batch·tokens layout) as the pass
/// reaches <see cref="Hook"/>, and everything after it is computed from the patched value. A head's
/// output is the d_head-wide slice h·d_head.. of attn.hook_z.
/// </summary>
public sealed record ActivationPatch(HookPoint Hook, int Row, int Column, ReadOnlyMemory<float> Values)
{
    /// <summary>
    /// The hooks whose buffer the forward pass reads after the hook fires, so that a patch takes effect
    /// (the pattern is read before its hook, the position embedding and ln_final are copies).
    /// </summary>
    public static bool CanPatch(HookKind kind) => kind is not (HookKind.AttnPattern or HookKind.PosEmbed or HookKind.LnFinal);

    /// <summary>Checks the patch against a pass of <paramref name="rows"/> rows whose activation at the hook is <paramref name="width"/> wide.</summary>
    internal void Validate(int width, int rows)
    {
        if (!CanPatch(Hook.Kind)) throw new RelpSaeException($"{Hook} cannot be patched: the forward pass does not read it back");
        if (Row < 0 || Row >= rows) throw new RelpSaeException($"a patch of {Hook} is at row {Row}, outside the pass's {rows} rows");
        if (Column < 0 || Column + Values.Length > width)
            throw new RelpSaeException($"a patch of {Hook} writes columns {Column}..{Column + Values.Length - 1}, outside its width {width}");
    }

    internal void Apply(float[] activation, int width) => Values.Span.CopyTo(activation.AsSpan(Row * width + Column, Values.Length));
}
