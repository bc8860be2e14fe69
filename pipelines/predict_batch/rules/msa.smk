# One FASTA and one alignment per record (CPU jobs).  A complex (chains separated by ':') gets the
# FASTA of its distinct chains too, and its alignments are one file per distinct chain in a folder
# msas/<name>.chains/<name>_<chain>.a3m (or, mode af2, AlphaFold-Multimer's searches in af2/<name>/<name>/msas/).


rule write_record:
    """The record's own one-record FASTA (header id = the record id)."""
    input:
        lambda wildcards: RECORDS[wildcards.name].source.rsplit(":", 1)[0],
    output:
        f"{RESULTS}/inputs/{{name}}.fasta",
    params:
        text=lambda wildcards: fasta_text(RECORDS[wildcards.name]),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    run:
        Path(output[0]).write_text(params.text)


rule write_chains:
    """A complex's distinct chains, one record <name>_<chain id> each (what its MSA job aligns)."""
    input:
        lambda wildcards: RECORDS[wildcards.complex].source.rsplit(":", 1)[0],
    output:
        f"{RESULTS}/inputs/{{complex}}.chains.fasta",
    params:
        text=lambda wildcards: chains_fasta_text(RECORDS[wildcards.complex]),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    run:
        Path(output[0]).write_text(params.text)


if MSA["mode"] == "af2":

    rule msa:
        """`foldkit msa --af2-data-dir ...`: AlphaFold2's searches and template search into
        af2/<name>/<name>/msas/ (uniref90_hits.sto, ..., pdb_hits.hhr); msa.a3m is written last.
        A complex: AlphaFold-Multimer's searches per distinct chain into msas/<chain>/."""
        input:
            fasta=f"{RESULTS}/inputs/{{name}}.fasta",
        output:
            f"{RESULTS}/af2/{{name}}/{{name}}/msa.a3m",
        log:
            f"{RESULTS}/logs/msa/{{name}}.log",
        params:
            foldkit=FOLDKIT,
            outdir=f"{RESULTS}/af2/{{name}}",
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

elif MSA["mode"] == "server":

    rule server_queries:
        """Every record in one FASTA (header: the record's file-safe name) for one server job."""
        input:
            expand(f"{RESULTS}/inputs/{{name}}.fasta", name=sorted(RECORDS)),
        output:
            f"{RESULTS}/server/records.fasta",
        params:
            text="".join(f">{name}\n{RECORDS[name].sequence}\n" for name in sorted(RECORDS)),
        threads: 1
        resources:
            mem_mb=500,
            runtime=5,
        run:
            Path(output[0]).write_text(params.text)

    rule msa_server:
        """`foldkit msa --msa-server`: ONE server job for every record (the sequences are sent to msa.server.url);
        server/<name>.a3m, and the downloads in server/msa_server/<name>/ that the prediction jobs reuse
        (they send nothing then). Reruns send only sequences not downloaded yet."""
        input:
            f"{RESULTS}/server/records.fasta",
        output:
            expand(f"{RESULTS}/server/{{name}}.a3m", name=sorted(RECORDS)),
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

elif MSA["mode"] == "a3m_dir":

    rule msa_chains:
        """A complex's precomputed alignments: <a3m_dir>/<name>_<chain>.a3m (.sto, .paired.a3m) per distinct
        chain, or ColabFold's complex A3M <a3m_dir>/<name>.a3m, copied into msas/<name>.chains/."""
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
        """A precomputed alignment <a3m_dir>/<name>.a3m."""
        input:
            f"{MSA['a3m_dir']}/{{name}}.a3m",
        output:
            f"{RESULTS}/msas/{{name}}.a3m",
        log:
            f"{RESULTS}/logs/msa/{{name}}.log",
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
        """`foldkit msa` of a complex's distinct chains into msas/<name>.chains/<name>_<chain>.a3m."""
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
            fasta=f"{RESULTS}/inputs/{{name}}.fasta",
            databases=MSA.get("databases", []) if MSA["mode"] == "search" else [],
        output:
            f"{RESULTS}/msas/{{name}}.a3m",
        log:
            f"{RESULTS}/logs/msa/{{name}}.log",
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
