{#- One row per police force (int_forces), as published. -#}

select * from {{ ref('int_forces') }}
