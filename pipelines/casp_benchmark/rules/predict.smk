# Per target: its FASTA (record id = target name), an MSA (CPU) and `foldkit predict` (GPU-labelled),
# then the CASP-named model folder that `foldkit score-set` reads.  A complex target (chains separated by
# ':' or one record per chain) is aligned chain by chain (msas/<T>.chains/<T>_<chain>.a3m; mode af2:
# AlphaFold-Multimer's searches) and predicted with the multimer models.


rule write_target:
    input:
        lambda wildcards: TARGET_SET.target_fasta(wildcards.target),
    output:
        f"{RESULTS}/inputs/{{target}}.fasta",
    params:
        text=lambda wildcards: target_fasta_text(wildcards.target, QUERIES[wildcards.target]),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    run:
        Path(output[0]).write_text(params.text)


rule write_chains:
    """A complex target's distinct chains, one record <T>_<chain id> each."""
    input:
        lambda wildcards: TARGET_SET.target_fasta(wildcards.complex),
    output:
        f"{RESULTS}/inputs/{{complex}}.chains.fasta",
    params:
        text=lambda wildcards: chains_fasta_text(wildcards.complex, QUERIES[wildcards.complex]),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    run:
        Path(output[0]).write_text(params.text)


if MSA["mode"] == "af2":

    rule msa:
        """`foldkit msa --af2-data-dir ...`: AlphaFold2's searches and template search into
        af2/<T>/<T>/msas/; msa.a3m is written last."""
        input:
            fasta=f"{RESULTS}/inputs/{{target}}.fasta",
        output:
            f"{RESULTS}/af2/{{target}}/{{target}}/msa.a3m",
        log:
            f"{RESULTS}/logs/msa/{{target}}.log",
        params:
            foldkit=FOLDKIT,
            outdir=f"{RESULTS}/af2/{{target}}",
            options=AF2_OPTIONS,
        threads: int(MSA.get("threads", 4))
        resources:
            mem_mb=int(MSA.get("mem_mb", 8000)),
            runtime=int(MSA.get("runtime", 120)),
        conda:
            "../../../environment.yml"
        shell:
            "{params.foldkit} msa {input.fasta} -o {params.outdir} {params.options} --cpu {threads}"
            " > {log} 2>&1"

    PREDICT_MSA = f"{RESULTS}/af2/{{target}}/{{target}}/msa.a3m"
    PREDICT_SHELL = ("rm -rf {params.outdir}/{wildcards.target}/msas && mkdir -p {params.outdir}/{wildcards.target} && "
                     "cp -r {params.af2_dir}/{wildcards.target}/msas {params.outdir}/{wildcards.target}/msas && "
                     "{params.foldkit} predict {input.fasta} -o {params.outdir} {params.af2} --use-precomputed-msas "
                     "{params.options} > {log} 2>&1")

elif MSA["mode"] == "server":

    rule server_queries:
        """Every target in one FASTA for one server job."""
        input:
            expand(f"{RESULTS}/inputs/{{target}}.fasta", target=sorted(QUERIES)),
        output:
            f"{RESULTS}/server/targets.fasta",
        params:
            text="".join(f">{target}\n{QUERIES[target].sequence}\n" for target in sorted(QUERIES)),
        threads: 1
        resources:
            mem_mb=500,
            runtime=5,
        run:
            Path(output[0]).write_text(params.text)

    rule msa_server:
        """`foldkit msa --msa-server`: ONE server job for every target (the sequences are sent to msa.server.url);
        server/<T>.a3m, and the downloads in server/msa_server/<T>/ that the prediction jobs reuse."""
        input:
            f"{RESULTS}/server/targets.fasta",
        output:
            expand(f"{RESULTS}/server/{{target}}.a3m", target=sorted(QUERIES)),
        log:
            f"{RESULTS}/logs/msa/server.log",
        params:
            foldkit=FOLDKIT,
            outdir=f"{RESULTS}/server",
            options=SERVER_MSA_OPTIONS,
        threads: 1
        resources:
            mem_mb=int(MSA.get("mem_mb", 8000)),
            runtime=int(MSA.get("runtime", 120)),
        conda:
            "../../../environment.yml"
        shell:
            "mkdir -p {params.outdir} && {params.foldkit} msa {input} -o {params.outdir} {params.options} --no-progress"
            " > {log} 2>&1"

    # the target's downloads are copied into its msas/server/: foldkit predict --msa-server sends nothing then
    PREDICT_MSA = f"{RESULTS}/server/{{target}}.a3m"
    PREDICT_SHELL = ("rm -rf {params.outdir}/{wildcards.target}/msas/server && "
                     "mkdir -p {params.outdir}/{wildcards.target}/msas && "
                     "cp -r {params.server_dir}/msa_server/{wildcards.target} "
                     "{params.outdir}/{wildcards.target}/msas/server && "
                     "{params.foldkit} predict {input.fasta} -o {params.outdir} {params.server} {params.options} "
                     "> {log} 2>&1")

elif MSA["mode"] == "a3m_dir":

    rule msa_chains:
        """A complex target's alignments <a3m_dir>/<T>_<chain>.a3m (or ColabFold's <T>.a3m) copied into
        msas/<T>.chains/."""
        input:
            f"{RESULTS}/inputs/{{complex}}.chains.fasta",
        output:
            directory(f"{RESULTS}/msas/{{complex}}.chains"),
        log:
            f"{RESULTS}/logs/msa/{{complex}}.log",
        params:
            a3m_dir=MSA.get("a3m_dir", ""),
        threads: 1
        resources:
            mem_mb=500,
            runtime=5,
        run:
            import shutil

            folder = Path(params.a3m_dir)
            name = wildcards.complex
            found = sorted(p for p in folder.glob(f"{name}_*") if p.is_file()) + \
                [p for p in (folder / f"{name}.a3m",) if p.is_file()]
            if not found:
                raise WorkflowError(f"no alignment of complex {name} in {folder} ({name}_<chain>.a3m or {name}.a3m)")
            Path(output[0]).mkdir(parents=True, exist_ok=True)
            for path in found:
                shutil.copyfile(path, Path(output[0]) / path.name)
            Path(log[0]).write_text("".join(f"{p} copied\n" for p in found))

    rule msa:
        """A precomputed alignment <a3m_dir>/<target>.a3m."""
        input:
            f"{MSA['a3m_dir']}/{{target}}.a3m",
        output:
            f"{RESULTS}/msas/{{target}}.a3m",
        log:
            f"{RESULTS}/logs/msa/{{target}}.log",
        threads: 1
        resources:
            mem_mb=500,
            runtime=5,
        conda:
            "../../../environment.yml"
        shell:
            "cp {input} {output} 2> {log}"

else:

    rule msa_chains:
        """`foldkit msa` of a complex target's distinct chains into msas/<T>.chains/<T>_<chain>.a3m."""
        input:
            fasta=f"{RESULTS}/inputs/{{complex}}.chains.fasta",
            databases=MSA.get("databases", []) if MSA["mode"] == "search" else [],
        output:
            directory(f"{RESULTS}/msas/{{complex}}.chains"),
        log:
            f"{RESULTS}/logs/msa/{{complex}}.log",
        params:
            foldkit=FOLDKIT,
            options=msa_options(MSA),
        threads: int(MSA.get("threads", 4))
        resources:
            mem_mb=int(MSA.get("mem_mb", 8000)),
            runtime=int(MSA.get("runtime", 120)),
        conda:
            "../../../environment.yml"
        shell:
            "mkdir -p {output} && {params.foldkit} msa {input.fasta} -o {output} {params.options} --cpu {threads}"
            " --no-progress > {log} 2>&1"

    rule msa:
        """`foldkit msa`: query only (mode single) or a jackhmmer/MMseqs2 search (mode search)."""
        input:
            fasta=f"{RESULTS}/inputs/{{target}}.fasta",
            databases=MSA.get("databases", []) if MSA["mode"] == "search" else [],
        output:
            f"{RESULTS}/msas/{{target}}.a3m",
        log:
            f"{RESULTS}/logs/msa/{{target}}.log",
        params:
            foldkit=FOLDKIT,
            options=msa_options(MSA),
        threads: int(MSA.get("threads", 4))
        resources:
            mem_mb=int(MSA.get("mem_mb", 8000)),
            runtime=int(MSA.get("runtime", 120)),
        conda:
            "../../../environment.yml"
        shell:
            "{params.foldkit} msa {input.fasta} -o {output} {params.options} --cpu {threads} --no-progress"
            " > {log} 2>&1"


if MSA["mode"] not in ("af2", "server"):
    def PREDICT_MSA(wildcards):
        if wildcards.target in COMPLEX_TARGETS:
            return f"{RESULTS}/msas/{wildcards.target}.chains"
        return f"{RESULTS}/msas/{wildcards.target}.a3m"

    PREDICT_SHELL = ("{params.foldkit} predict {input.fasta} -o {params.outdir} --msa {input.msa} {params.options}"
                     " > {log} 2>&1")


rule predict:
    """foldkit writes predictions/<T>/<T>/ (ranked_*.pdb, ranking_debug.json, ..., finished.json)."""
    input:
        fasta=f"{RESULTS}/inputs/{{target}}.fasta",
        msa=PREDICT_MSA,
    output:
        summary=f"{RESULTS}/predictions/{{target}}/summary.csv",
        ranking=f"{RESULTS}/predictions/{{target}}/{{target}}/ranking_debug.json",
        finished=f"{RESULTS}/predictions/{{target}}/{{target}}/finished.json",
    log:
        f"{RESULTS}/logs/predict/{{target}}.log",
    params:
        foldkit=FOLDKIT,
        outdir=f"{RESULTS}/predictions/{{target}}",
        options=model_options(PREDICT),
        af2=AF2_OPTIONS,
        af2_dir=f"{RESULTS}/af2/{{target}}",
        server=SERVER_PREDICT_OPTIONS,
        server_dir=f"{RESULTS}/server",
    threads: int(PREDICT.get("threads", 4))
    resources:
        gpu=int(PREDICT.get("gpus", 1)),
        mem_mb=int(PREDICT.get("mem_mb", 32000)),
        runtime=int(PREDICT.get("runtime", 240)),
    conda:
        "../../../environment.yml"
    shell:
        PREDICT_SHELL


def collect_inputs(wildcards):
    inputs = {"existing": EXISTING.get(wildcards.target, [])}
    if PREDICT_MODELS:
        inputs["ranking"] = f"{RESULTS}/predictions/{wildcards.target}/{wildcards.target}/ranking_debug.json"
        inputs["finished"] = f"{RESULTS}/predictions/{wildcards.target}/{wildcards.target}/finished.json"
    return inputs


rule collect_models:
    """models/<T>/<T>TS<group>_<n>.pdb (+ existing CASP models) and index/<T>.tsv (where each came from)."""
    input:
        unpack(collect_inputs),
    output:
        models=directory(f"{RESULTS}/models/{{target}}"),
        index=f"{RESULTS}/index/{{target}}.tsv",
    log:
        f"{RESULTS}/logs/collect_models/{{target}}.log",
    params:
        group=GROUP,
        max_models=int(config.get("max_models_per_target", 5)),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../../environment.yml"
    script:
        "../scripts/collect_models.py"
