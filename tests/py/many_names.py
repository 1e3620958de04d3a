# Covers: large tables and operands: >128 qstrs, >128 constant objects, >128 child functions, >16 locals and args, many cells, big n_state.

# 140 distinct global names: qstr-table indices need 2-byte vuints
name_000 = -200
name_001 = -197
name_002 = -194
name_003 = -191
name_004 = -188
name_005 = -185
name_006 = -182
name_007 = -179
name_008 = -176
name_009 = -173
name_010 = -170
name_011 = -167
name_012 = -164
name_013 = -161
name_014 = -158
name_015 = -155
name_016 = -152
name_017 = -149
name_018 = -146
name_019 = -143
name_020 = -140
name_021 = -137
name_022 = -134
name_023 = -131
name_024 = -128
name_025 = -125
name_026 = -122
name_027 = -119
name_028 = -116
name_029 = -113
name_030 = -110
name_031 = -107
name_032 = -104
name_033 = -101
name_034 = -98
name_035 = -95
name_036 = -92
name_037 = -89
name_038 = -86
name_039 = -83
name_040 = -80
name_041 = -77
name_042 = -74
name_043 = -71
name_044 = -68
name_045 = -65
name_046 = -62
name_047 = -59
name_048 = -56
name_049 = -53
name_050 = -50
name_051 = -47
name_052 = -44
name_053 = -41
name_054 = -38
name_055 = -35
name_056 = -32
name_057 = -29
name_058 = -26
name_059 = -23
name_060 = -20
name_061 = -17
name_062 = -14
name_063 = -11
name_064 = -8
name_065 = -5
name_066 = -2
name_067 = 1
name_068 = 4
name_069 = 7
name_070 = 10
name_071 = 13
name_072 = 16
name_073 = 19
name_074 = 22
name_075 = 25
name_076 = 28
name_077 = 31
name_078 = 34
name_079 = 37
name_080 = 40
name_081 = 43
name_082 = 46
name_083 = 49
name_084 = 52
name_085 = 55
name_086 = 58
name_087 = 61
name_088 = 64
name_089 = 67
name_090 = 70
name_091 = 73
name_092 = 76
name_093 = 79
name_094 = 82
name_095 = 85
name_096 = 88
name_097 = 91
name_098 = 94
name_099 = 97
name_100 = 100
name_101 = 103
name_102 = 106
name_103 = 109
name_104 = 112
name_105 = 115
name_106 = 118
name_107 = 121
name_108 = 124
name_109 = 127
name_110 = 130
name_111 = 133
name_112 = 136
name_113 = 139
name_114 = 142
name_115 = 145
name_116 = 148
name_117 = 151
name_118 = 154
name_119 = 157
name_120 = 160
name_121 = 163
name_122 = 166
name_123 = 169
name_124 = 172
name_125 = 175
name_126 = 178
name_127 = 181
name_128 = 184
name_129 = 187
name_130 = 190
name_131 = 193
name_132 = 196
name_133 = 199
name_134 = 202
name_135 = 205
name_136 = 208
name_137 = 211
name_138 = 214
name_139 = 217
print(sum(globals()[k] for k in globals() if k.startswith('name_')))

# 135 distinct float constants: LOAD_CONST_OBJ operands need 2-byte vuints
floats = [
    0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5,
    15.5, 16.5, 17.5, 18.5, 19.5, 20.5, 21.5, 22.5, 23.5, 24.5, 25.5, 26.5, 27.5, 28.5, 29.5,
    30.5, 31.5, 32.5, 33.5, 34.5, 35.5, 36.5, 37.5, 38.5, 39.5, 40.5, 41.5, 42.5, 43.5, 44.5,
    45.5, 46.5, 47.5, 48.5, 49.5, 50.5, 51.5, 52.5, 53.5, 54.5, 55.5, 56.5, 57.5, 58.5, 59.5,
    60.5, 61.5, 62.5, 63.5, 64.5, 65.5, 66.5, 67.5, 68.5, 69.5, 70.5, 71.5, 72.5, 73.5, 74.5,
    75.5, 76.5, 77.5, 78.5, 79.5, 80.5, 81.5, 82.5, 83.5, 84.5, 85.5, 86.5, 87.5, 88.5, 89.5,
    90.5, 91.5, 92.5, 93.5, 94.5, 95.5, 96.5, 97.5, 98.5, 99.5, 100.5, 101.5, 102.5, 103.5, 104.5,
    105.5, 106.5, 107.5, 108.5, 109.5, 110.5, 111.5, 112.5, 113.5, 114.5, 115.5, 116.5, 117.5, 118.5, 119.5,
    120.5, 121.5, 122.5, 123.5, 124.5, 125.5, 126.5, 127.5, 128.5, 129.5, 130.5, 131.5, 132.5, 133.5, 134.5,
]
print(len(floats), sum(floats))

# 130 lambdas: MAKE_FUNCTION child indices need 2-byte vuints
funcs = [
    lambda: 0, lambda: 1, lambda: 2, lambda: 3, lambda: 4, lambda: 5, lambda: 6, lambda: 7, lambda: 8, lambda: 9,
    lambda: 10, lambda: 11, lambda: 12, lambda: 13, lambda: 14, lambda: 15, lambda: 16, lambda: 17, lambda: 18, lambda: 19,
    lambda: 20, lambda: 21, lambda: 22, lambda: 23, lambda: 24, lambda: 25, lambda: 26, lambda: 27, lambda: 28, lambda: 29,
    lambda: 30, lambda: 31, lambda: 32, lambda: 33, lambda: 34, lambda: 35, lambda: 36, lambda: 37, lambda: 38, lambda: 39,
    lambda: 40, lambda: 41, lambda: 42, lambda: 43, lambda: 44, lambda: 45, lambda: 46, lambda: 47, lambda: 48, lambda: 49,
    lambda: 50, lambda: 51, lambda: 52, lambda: 53, lambda: 54, lambda: 55, lambda: 56, lambda: 57, lambda: 58, lambda: 59,
    lambda: 60, lambda: 61, lambda: 62, lambda: 63, lambda: 64, lambda: 65, lambda: 66, lambda: 67, lambda: 68, lambda: 69,
    lambda: 70, lambda: 71, lambda: 72, lambda: 73, lambda: 74, lambda: 75, lambda: 76, lambda: 77, lambda: 78, lambda: 79,
    lambda: 80, lambda: 81, lambda: 82, lambda: 83, lambda: 84, lambda: 85, lambda: 86, lambda: 87, lambda: 88, lambda: 89,
    lambda: 90, lambda: 91, lambda: 92, lambda: 93, lambda: 94, lambda: 95, lambda: 96, lambda: 97, lambda: 98, lambda: 99,
    lambda: 100, lambda: 101, lambda: 102, lambda: 103, lambda: 104, lambda: 105, lambda: 106, lambda: 107, lambda: 108, lambda: 109,
    lambda: 110, lambda: 111, lambda: 112, lambda: 113, lambda: 114, lambda: 115, lambda: 116, lambda: 117, lambda: 118, lambda: 119,
    lambda: 120, lambda: 121, lambda: 122, lambda: 123, lambda: 124, lambda: 125, lambda: 126, lambda: 127, lambda: 128, lambda: 129,
]
print(len(funcs), funcs[0](), funcs[127](), funcs[129]())


def many_args(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, *rest, k0, k1=1, k2=2, k3, k4=4, k5=5, k6, k7=7, k8=8, **extra):
    # 20 positional and 9 keyword-only args, plus *rest and **extra
    s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15 + a16 + a17 + a18 + a19
    return s, len(rest), k0 + k1 + k2 + k3 + k4 + k5 + k6 + k7 + k8, sorted(extra)


def many_locals(seed):
    # 40 locals: LOAD_FAST_N/STORE_FAST_N and a large n_state
    v00 = seed * 3 % 1009 + 0
    v01 = v00 * 3 % 1009 + 1
    v02 = v01 * 3 % 1009 + 2
    v03 = v02 * 3 % 1009 + 3
    v04 = v03 * 3 % 1009 + 4
    v05 = v04 * 3 % 1009 + 5
    v06 = v05 * 3 % 1009 + 6
    v07 = v06 * 3 % 1009 + 7
    v08 = v07 * 3 % 1009 + 8
    v09 = v08 * 3 % 1009 + 9
    v10 = v09 * 3 % 1009 + 10
    v11 = v10 * 3 % 1009 + 11
    v12 = v11 * 3 % 1009 + 12
    v13 = v12 * 3 % 1009 + 13
    v14 = v13 * 3 % 1009 + 14
    v15 = v14 * 3 % 1009 + 15
    v16 = v15 * 3 % 1009 + 16
    v17 = v16 * 3 % 1009 + 17
    v18 = v17 * 3 % 1009 + 18
    v19 = v18 * 3 % 1009 + 19
    v20 = v19 * 3 % 1009 + 20
    v21 = v20 * 3 % 1009 + 21
    v22 = v21 * 3 % 1009 + 22
    v23 = v22 * 3 % 1009 + 23
    v24 = v23 * 3 % 1009 + 24
    v25 = v24 * 3 % 1009 + 25
    v26 = v25 * 3 % 1009 + 26
    v27 = v26 * 3 % 1009 + 27
    v28 = v27 * 3 % 1009 + 28
    v29 = v28 * 3 % 1009 + 29
    v30 = v29 * 3 % 1009 + 30
    v31 = v30 * 3 % 1009 + 31
    v32 = v31 * 3 % 1009 + 32
    v33 = v32 * 3 % 1009 + 33
    v34 = v33 * 3 % 1009 + 34
    v35 = v34 * 3 % 1009 + 35
    v36 = v35 * 3 % 1009 + 36
    v37 = v36 * 3 % 1009 + 37
    v38 = v37 * 3 % 1009 + 38
    v39 = v38 * 3 % 1009 + 39
    return v00 + v03 + v06 + v09 + v12 + v15 + v18 + v21 + v24 + v27 + v30 + v33 + v36 + v39


def many_cells():
    # 20 variables captured by an inner function: 20 cells
    c00 = 0
    c01 = 1
    c02 = 4
    c03 = 9
    c04 = 16
    c05 = 25
    c06 = 36
    c07 = 49
    c08 = 64
    c09 = 81
    c10 = 100
    c11 = 121
    c12 = 144
    c13 = 169
    c14 = 196
    c15 = 225
    c16 = 256
    c17 = 289
    c18 = 324
    c19 = 361

    def inner():
        return c00 + c01 + c02 + c03 + c04 + c05 + c06 + c07 + c08 + c09 + c10 + c11 + c12 + c13 + c14 + c15 + c16 + c17 + c18 + c19

    def bump():
        nonlocal c00, c19
        c00 += 1000
        c19 += 1

    bump()
    return inner()


def deep_stack():
    # a deeply nested expression needs a large value stack
    return ((((((((((((((((((((((((((((1 + [2][0] * (1 + 2)) + [3][0] * (1 + 3)) + [4][0] * (1 + 4)) + [5][0] * (1 + 5)) + [6][0] * (1 + 6)) + [7][0] * (1 + 7)) + [8][0] * (1 + 8)) + [9][0] * (1 + 9)) + [10][0] * (1 + 10)) + [11][0] * (1 + 11)) + [12][0] * (1 + 12)) + [13][0] * (1 + 13)) + [14][0] * (1 + 14)) + [15][0] * (1 + 15)) + [16][0] * (1 + 16)) + [17][0] * (1 + 17)) + [18][0] * (1 + 18)) + [19][0] * (1 + 19)) + [20][0] * (1 + 20)) + [21][0] * (1 + 21)) + [22][0] * (1 + 22)) + [23][0] * (1 + 23)) + [24][0] * (1 + 24)) + [25][0] * (1 + 25)) + [26][0] * (1 + 26)) + [27][0] * (1 + 27)) + [28][0] * (1 + 28)) + [29][0] * (1 + 29))


print(many_args(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, k0=0, k3=3, k6=6, zz=1, aa=2))
print(many_locals(7), many_locals(123))
print(many_cells())
print(deep_stack())
