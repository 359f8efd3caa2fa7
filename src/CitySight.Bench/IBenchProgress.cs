namespace CitySight.Bench;

/// <summary>Progress of a bench, called from its own tasks (not per frame: a few times a second at most).</summary>
internal interface IBenchProgress
{
    void Phase(int batch, string what);
    void Pipeline(int batch, long done, long total);
    void Bare(int batch, double fraction);
}
