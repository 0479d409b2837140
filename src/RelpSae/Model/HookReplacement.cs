namespace RelpSae.Model;

/// <summary>A rewrite that replaces a hook's whole activation [batch × tokens × width] with given values as the pass reaches it
/// (a transcoder's prediction, or zeros, in place of an MLP's output).</summary>
public sealed class HookReplacement(HookPoint hook, float[] values) : IActivationRewrite
{
    public void Apply(HookPoint at, float[] activation, int batch, int tokens)
    {
        if (at != hook) return;
        if (activation.Length != values.Length)
            throw new ArgumentException($"{values.Length} replacement values for {hook}'s {activation.Length}");
        values.CopyTo(activation, 0);
    }
}
