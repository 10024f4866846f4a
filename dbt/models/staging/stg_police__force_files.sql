with

source as (

    select * from {{ source('warehouse', 'force_files') }}

),

renamed as (

    select
        month as file_month,
        force_id,
        force_name,
        dataset as dataset_name,
        has_file,
        file_bytes,
        set_aside_reason
    from source

)

select * from renamed
