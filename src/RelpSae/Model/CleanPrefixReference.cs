namespace RelpSae.Model;

/// <summary>
/// The batch of a patching pass whose first changed row is <paramref name="first"/>: the
/// <paramref name="patched"/> sequences and, when the pass reuses clean rows before it
/// (<see cref="CleanPrefix.Reusable"/>), the unpatched prompt riding along after them, from which the
/// effects are measured. GPT-2's pass from a later row runs attention on other shapes than its full
/// pass, so its rows' last bits can differ from the clean run's (the Llama family and GPT-NeoX run it on
/// the full pass's shapes, <see cref="CleanPrefixAttention"/>, and need no reference); measured against
/// the prompt in the same pass, a patch too small to move the residual stream has an effect of exactly 0,
/// as in a full pass. Feature (GroundTruth) and component (ComponentPatching) ground truth batch this way.
/// </summary>
internal readonly struct CleanPrefixReference(int patched, int first)
{
    /// <summary>Sequences in the pass: the patched ones, then the reference if there is one.</summary>
    public int Sequences => patched + (CleanPrefix.Reusable(first) > 0 ? 1 : 0);

    /// <summary>The pass's input before patching: <see cref="Sequences"/> copies of the clean activation [tokens × width].</summary>
    public float[] Input(ReadOnlySpan<float> clean)
    {
        var input = new float[Sequences * clean.Length];
        for (int b = 0; b < Sequences; b++) clean.CopyTo(input.AsSpan(b * clean.Length));
        return input;
    }

    /// <summary>m(unpatched) − m(patched) for each patched sequence: unpatched is the reference's metric, or <paramref name="clean"/> without one.</summary>
    public double[] Effects(double[] metrics, double clean)
    {
        double unpatched = Sequences > patched ? metrics[patched] : clean;
        var effects = new double[patched];
        for (int b = 0; b < patched; b++) effects[b] = unpatched - metrics[b];
        return effects;
    }
}
