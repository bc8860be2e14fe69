# One `foldkit predict` job per record (GPU-labelled).  foldkit writes
# records/<name>/<name>/ (ranked_0.pdb, ..., finished.json) and records/<name>/summary.csv;
# when Snakemake reruns a job it deletes finished.json, so foldkit redoes that record.


rule predict:
    input:
        fasta=f"{RESULTS}/inputs/{{name}}.fasta",
        msa=f"{RESULTS}/msas/{{name}}.a3m",
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
    threads: int(PREDICT.get("threads", 4))
    resources:
        gpu=int(PREDICT.get("gpus", 1)),
        mem_mb=int(PREDICT.get("mem_mb", 32000)),
        runtime=int(PREDICT.get("runtime", 240)),
    conda:
        "../../../environment.yml"
    shell:
        "{params.foldkit} predict {input.fasta} -o {params.outdir} --msa {input.msa} {params.options}"
        " > {log} 2>&1"
