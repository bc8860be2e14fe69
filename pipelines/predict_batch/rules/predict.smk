# One `foldkit predict` job per record (GPU-labelled).  foldkit writes
# records/<name>/<name>/ (ranked_0.pdb, ..., finished.json) and records/<name>/summary.csv;
# when Snakemake reruns a job it deletes finished.json, so foldkit redoes that record.
# A complex runs the multimer models of predict.params_dir with its per-chain alignments (--msa DIR).


# mode af2: the record's msas/ folder is copied from the msa job, and foldkit predict reads it with
# --use-precomputed-msas (templates are featurized here, from the data directory's mmCIF files).
if MSA["mode"] == "af2":
    PREDICT_MSA = f"{RESULTS}/af2/{{name}}/{{name}}/msa.a3m"
    PREDICT_SHELL = ("rm -rf {params.outdir}/{wildcards.name}/msas && mkdir -p {params.outdir}/{wildcards.name} && "
                     "cp -r {params.af2_dir}/{wildcards.name}/msas {params.outdir}/{wildcards.name}/msas && "
                     "{params.foldkit} predict {input.fasta} -o {params.outdir} {params.af2} --use-precomputed-msas "
                     "{params.options} > {log} 2>&1")
elif MSA["mode"] == "server":
    # mode server: the record's downloads are copied from the msa_server job into its msas/server/, so
    # foldkit predict --msa-server finds them there and sends nothing (GPU nodes need no network access)
    PREDICT_MSA = f"{RESULTS}/server/{{name}}.a3m"
    PREDICT_SHELL = ("rm -rf {params.outdir}/{wildcards.name}/msas/server && "
                     "mkdir -p {params.outdir}/{wildcards.name}/msas && "
                     "cp -r {params.server_dir}/msa_server/{wildcards.name} "
                     "{params.outdir}/{wildcards.name}/msas/server && "
                     "{params.foldkit} predict {input.fasta} -o {params.outdir} {params.server} {params.options} "
                     "> {log} 2>&1")
else:
    def PREDICT_MSA(wildcards):
        if RECORDS[wildcards.name].is_complex:
            return f"{RESULTS}/msas/{wildcards.name}.chains"
        return f"{RESULTS}/msas/{wildcards.name}.a3m"

    PREDICT_SHELL = "{params.foldkit} predict {input.fasta} -o {params.outdir} --msa {input.msa} {params.options} > {log} 2>&1"


rule predict:
    input:
        fasta=f"{RESULTS}/inputs/{{name}}.fasta",
        msa=PREDICT_MSA,
    output:
        summary=f"{RESULTS}/records/{{name}}/summary.csv",
        ranked=f"{RESULTS}/records/{{name}}/{{name}}/ranked_0.pdb",
        finished=f"{RESULTS}/records/{{name}}/{{name}}/finished.json",
    log:
        f"{RESULTS}/logs/predict/{{name}}.log",
    params:
        foldkit=FOLDKIT,
        outdir=f"{RESULTS}/records/{{name}}",
        options=model_options(PREDICT),
        af2=AF2_OPTIONS,
        af2_dir=f"{RESULTS}/af2/{{name}}",
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
