// bessel.cuh -- log K_nu(x) and the ratio K_{nu+1}(x)/K_nu(x) of the modified Bessel function
// of the second kind. Twin of levyscore/_bessel.py (read its docstring for the method:
// Temme's series, Steed's CF2, the K1/K0 Chebyshev fast path, the stable upward recurrence,
// the rescaled product for log K, and the Debye expansion for nu >= NU_DEBYE). Float64 only:
// the convergence tests use eps = 2**-52.
#ifndef LEVYSCORE_BESSEL_CUH
#define LEVYSCORE_BESSEL_CUH

#include "common.cuh"

namespace levyscore {

// Taylor coefficients of 1/Gamma(1 + t) (levyscore/_precompute/bessel_coefficients.py) and
// the K1/K0 Chebyshev fits on [0.25, 0.5), ..., [8, 16)
// (levyscore/_precompute/bessel_k1k0_chebyshev.py): the values of levyscore._bessel's
// _RGAM_COEFFS and _K1K0_CHEB, written with Python's repr (round-trip exact);
// tests/test_kernel_parity.py checks them against the Numba tables bit for bit.
LS_TABLE double RGAM_COEFFS[23] = {
    1.0,
    0.5772156649015329,
    -0.6558780715202539,
    -0.04200263503409524,
    0.16653861138229148,
    -0.04219773455554433,
    -0.009621971527876973,
    0.0072189432466631,
    -0.0011651675918590652,
    -0.00021524167411495098,
    0.0001280502823881162,
    -2.013485478078824e-05,
    -1.2504934821426706e-06,
    1.133027231981696e-06,
    -2.056338416977607e-07,
    6.116095104481416e-09,
    5.002007644469223e-09,
    -1.18127457048702e-09,
    1.0434267116911005e-10,
    7.782263439905071e-12,
    -3.696805618642206e-12,
    5.100370287454476e-13,
    -2.0583260535665066e-14,
};
LS_TABLE double K1K0_CHEB[6][26] = {
    {
        2.061618273416969, -0.31147873247093616, 0.04839794373381093,
        -0.007748956914163642, 0.0012622975930775713, -0.00020787601434855814,
        3.4485781676893263e-05, -5.751169103158576e-06, 9.628799477819174e-07,
        -1.616959258786095e-07, 2.7218541654016872e-08, -4.590630865066363e-09,
        7.754872329825516e-10, -1.3117750395260766e-10, 2.2214618260748148e-11,
        -3.7656807811998235e-12, 6.38876819532725e-13, -1.0847103921269295e-13,
        1.842873339245676e-14, -3.132783472843705e-15, 5.328336082900817e-16,
        -9.066847143715134e-17, 1.5434934263107067e-17, -2.6285733140098482e-18,
        4.4780346083162255e-19, -7.631218737444203e-20,
    },
    {
        1.5822491125111857, -0.17654046185063138, 0.027752435081424245,
        -0.004460042588971482, 0.0007270095240380841, -0.00011965290197938433,
        1.982803840001642e-05, -3.302441645520155e-06, 5.521674468608593e-07,
        -9.260315748945387e-08, 1.556827793191657e-08, -2.622545866729877e-09,
        4.4251474010636884e-10, -7.477248032781402e-11, 1.264958649852019e-11,
        -2.1422005856267572e-12, 3.6310757912585877e-13, -6.159624526567018e-14,
        1.0456281868621779e-14, -1.7761152409902388e-15, 3.018614008755692e-16,
        -5.132896133218031e-17, 8.732026421007243e-18, -1.486097372256536e-18,
        2.530133532398204e-19, -4.309131935381554e-20,
    },
    {
        1.31268944538659, -0.09817444126033736, 0.01571241327176816,
        -0.0025489386172205556, 0.0004175475573871311, -6.889492473481882e-05,
        1.1430187719453838e-05, -1.904484112154038e-06, 3.184046435198893e-07,
        -5.3380084895908064e-08, 8.969448629528293e-09, -1.50999862069622e-09,
        2.5461545551210913e-10, -4.299219171640446e-11, 7.267914871965857e-12,
        -1.2299268263953892e-12, 2.0832590283521122e-13, -3.5314761698152287e-14,
        5.990733122155243e-15, -1.016908391566485e-15, 1.7271658598257647e-16,
        -2.935030799566022e-17, 4.9899583810485106e-18, -8.487283720083092e-19,
        1.4441495772964745e-19, -2.4581778529390477e-20,
    },
    {
        1.1643940615010329, -0.05323581046964544, 0.008694138737751036,
        -0.0014295139875940101, 0.0002363170857544306, -3.923719088328838e-05,
        6.538131745439352e-06, -1.0926896039655765e-06, 1.8307084364217909e-07,
        -3.0736589532249614e-08, 5.169801062939164e-09, -8.708958427826055e-10,
        1.4690778966220605e-10, -2.4810576937677705e-11, 4.194513532527632e-12,
        -7.097868361293301e-13, 1.2020777881147573e-13, -2.03731656353769e-14,
        3.4552063595252563e-15, -5.863426869513072e-16, 9.955594095156156e-17,
        -1.691219963601913e-17, 2.8742986583730243e-18, -4.887045172598149e-19,
        8.312451057999744e-20, 0.0,
    },
    {
        1.0848772562726554, -0.028133974003927177, 0.004677804175356852,
        -0.0007799357291842802, 0.0001303525306157475, -2.1831773289984812e-05,
        3.663146881658444e-06, -6.15630453848458e-07, 1.0361091683161213e-07,
        -1.745990088413673e-08, 2.9455739159557497e-09, -4.97438317433386e-10,
        8.408253959804668e-11, -1.4224320928982847e-11, 2.408147638073812e-12,
        -4.079729163865946e-13, 6.915928900600981e-14, -1.1730538815222703e-14,
        1.990735271989486e-15, -3.380019741242367e-16, 5.741417330887976e-17,
        -9.756606509076272e-18, 1.6586140888578113e-18, -2.820636729511164e-19,
        4.798369471113826e-20, 0.0,
    },
    {
        1.0432471950798918, -0.014555974136815149, 0.0024521646235833735,
        -0.0004134991877217415, 6.978822592830608e-05, -1.1788036387596029e-05,
        1.9926227565858297e-06, -3.3706082165069303e-07, 5.705171921068336e-08,
        -9.662429156844792e-09, 1.6373547946017982e-09, -2.7760137172091463e-10,
        4.7087725725061335e-11, -7.990747631576881e-12, 1.3565887163610978e-12,
        -2.3039796387400934e-13, 3.914427449672804e-14, -6.652845256724386e-15,
        1.1310643688972881e-15, -1.9235337444511859e-16, 3.27218147922819e-17,
        -5.5679215460400014e-18, 9.476775045227088e-19, -1.613369466319204e-19,
        2.7473081812508974e-20, 0.0,
    },
};

// Large orders (nu >= NU_DEBYE): Debye expansion (levyscore/_precompute/bessel_debye.py), the
// values of levyscore._bessel's _DEBYE_U, _DEBYE_V, _DEBYE_NU_OMIT, also checked bit for bit.
LS_TABLE double DEBYE_U[14][14] = {
    {
        1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        0.125, -0.20833333333333334, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        0.0703125, -0.4010416666666667, 0.3342013888888889, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0,
    },
    {
        0.0732421875, -0.8912109375, 1.8464626736111112, -1.0258125964506173, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        0.112152099609375, -2.3640869140625, 8.78912353515625, -11.207002616222994,
        4.669584423426247, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        0.22710800170898438, -7.368794359479632, 42.53499874538846, -91.81824154324002,
        84.63621767460073, -28.212072558200244, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        0.5725014209747314, -26.491430486951554, 218.1905117442116, -699.5796273761325,
        1059.9904525279999, -765.2524681411817, 212.57013003921713, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0,
    },
    {
        1.7277275025844574, -108.09091978839466, 1200.9029132163525, -5305.646978613403,
        11655.393336864534, -13586.550006434138, 8061.722181737309, -1919.457662318407, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0,
    },
    {
        6.074042001273483, -493.915304773088, 7109.514302489364, -41192.65496889755,
        122200.46498301746, -203400.17728041555, 192547.00123253153, -96980.59838863752,
        20204.29133096615, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        24.380529699556064, -2499.8304818112097, 45218.76898136273, -331645.1724845636,
        1268365.2733216248, -2813563.226586534, 3763271.297656404, -2998015.9185381066,
        1311763.6146629772, -242919.18790055133, 0.0, 0.0, 0.0, 0.0,
    },
    {
        110.01714026924674, -13886.08975371704, 308186.4046126624, -2785618.1280864547,
        13288767.166421818, -37567176.66076335, 66344512.27472903, -74105148.21153265,
        50952602.49266464, -19706819.118432228, 3284469.853072038, 0.0, 0.0, 0.0,
    },
    {
        551.3358961220206, -84005.43360302408, 2243768.1779224495, -24474062.72573873,
        142062907.7975331, -495889784.2750303, 1106842816.8230145, -1621080552.1083372,
        1553596899.57058, -939462359.6815784, 325573074.18576574, -49329253.66450996, 0.0, 0.0,
    },
    {
        3038.090510922384, -549842.3275722887, 17395107.553978164, -225105661.88941526,
        1559279864.8792574, -6563293792.619285, 17954213731.1556, -33026599749.800724,
        41280185579.753975, -34632043388.158775, 18688207509.295826, -5866481492.051847,
        814789096.1183121, 0.0,
    },
    {
        18257.755474293175, -3871833.442572613, 143157876.71888897, -2167164983.223795,
        17634730606.83497, -87867072178.02327, 287900649906.1506, -645364869245.3765,
        1008158106865.3821, -1098375156081.2233, 819218669548.5773, -399096175224.4665,
        114498237732.0258, -14679261247.695616,
    },
};
LS_TABLE double DEBYE_V[14][14] = {
    {
        1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        -0.375, 0.2916666666666667, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        -0.1171875, 0.515625, -0.3949652777777778, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0,
    },
    {
        -0.1025390625, 1.0892578125, -2.1305338541666665, 1.1464964313271604, 0.0, 0.0, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        -0.144195556640625, 2.7939208984375, -9.961006673177083, 12.386687102141204,
        -5.0756352428546165, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        -0.2775764465332031, 8.502455030168806, -47.53911624484592, 100.56283597592954,
        -91.40711508856879, 30.15773273462785, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        -0.6765925884246826, 30.023621218545095, -241.15793403307597, 760.412638452318,
        -1138.5082638263702, 814.6235951180321, -224.71699461288668, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0,
    },
    {
        -1.993531733751297, 120.80749858702931, -1315.2746192369575, 5730.098736902475,
        -12459.213566993121, 14409.977279551358, -8497.490948317705, 2013.0897434071098, 0.0, 0.0,
        0.0, 0.0, 0.0, 0.0,
    },
    {
        -6.883914268109947, 545.9063894860446, -7727.732937488438, 44243.96274437144,
        -130084.36594966374, 215023.04455358215, -202421.2064239434, 101491.32389508576,
        -21064.0484088796, 0.0, 0.0, 0.0, 0.0, 0.0,
    },
    {
        -27.248827311268542, 2737.909575317039, -48836.270499871745, 354517.25334556797,
        -1345235.895947178, 2965647.7253209413, -3946845.50729818, 3131261.0704731336,
        -1365304.9866900374, 252085.9497081193, 0.0, 0.0, 0.0, 0.0,
    },
    {
        -121.59789187653587, 15093.575819257652, -331015.02717656334, 2965335.4266726775,
        -14048125.290217351, 39493698.5408025, -69430303.54332107, 77258558.77372554,
        -52950743.766886786, 20423430.722738855, -3395807.814193124, 0.0, 0.0, 0.0,
    },
    {
        -603.8440767050702, 90725.86829126602, -2398510.810882618, 25957339.25457138,
        -149741983.89469704, 520079529.84942204, -1156035830.9040372, 1687247105.2556162,
        -1612223197.667583, 972425951.249353, -336247601.20824987, 50847076.85418719, 0.0, 0.0,
    },
    {
        -3302.2722944808525, 590571.3888739398, -18517372.55746063, 237968842.56881043,
        -1639242934.8730657, 6868563271.345762, -18718222826.098392, 34321760524.30271,
        -42781283237.19957, 35806010960.63873, -19281483938.162357, 6041600342.560858,
        -837740901.6427716, 0.0,
    },
    {
        -19718.37591223663, 4138856.438612103, -151834111.67154893, 2284309036.3710275,
        -18494961368.143993, 91772275385.93541, -299651696841.0955, 669718260537.6549,
        -1043532075527.3253, 1134387456280.6077, -844425397842.3798, 410664180303.4365,
        -117635175752.08131, 15060540760.622776,
    },
};
LS_TABLE double DEBYE_NU_OMIT[15] = {
    0.0, 1.1793192109828694e+16, 50644020.4375, 110473.0625, 6173.75, 1094.625, 377.875, 174.0625,
    102.625, 67.1875, 49.5625, 38.3125, 31.625, 26.75, 23.5625,
};
// Double-double log(k/64), k = LOG_K0 .. 91, for dd_log (levyscore/_precompute/bessel_dd_log.py):
// the values of levyscore._bessel's _LOG_TABLE, also checked bit for bit.
LS_TABLE double LOG_TABLE[47][2] = {
    {-0.3522205935893521, -5.7233316949182485e-18,},
    {-0.33024168687057687, 1.0828321637483858e-17,},
    {-0.3087354816496133, 1.6199186085148102e-17,},
    {-0.2876820724517809, -2.607160616442564e-17,},
    {-0.26706278524904525, 7.32891532732017e-18,},
    {-0.24686007793152578, -1.361743371748368e-17,},
    {-0.22705745063534608, -9.551415762738488e-18,},
    {-0.2076393647782445, -1.2053243216686129e-17,},
    {-0.18859116980755003, 7.432164219196925e-18,},
    {-0.16989903679539747, 4.868008764439071e-19,},
    {-0.15154989812720093, -5.1669593684615594e-18,},
    {-0.13353139262452263, 3.664457663660085e-18,},
    {-0.1158318155251217, -4.338484369808096e-18,},
    {-0.09844007281325252, 4.439009633675136e-18,},
    {-0.0813456394539524, -5.07707635593117e-18,},
    {-0.06453852113757118, 6.470486661692933e-18,},
    {-0.048009219186360606, -1.4390903347292205e-18,},
    {-0.0317486983145803, -3.0382263084680858e-18,},
    {-0.015748356968139168, -1.0021578630528974e-18,},
    {0.0, 0.0,},
    {0.015504186535965254, -3.278321022892429e-19,},
    {0.030771658666753687, 1.0431732029005968e-18,},
    {0.0458095360312942, 1.902959866474257e-18,},
    {0.06062462181643484, 2.6424025938726934e-18,},
    {0.07522342123758753, -5.930604196293241e-18,},
    {0.08961215868968714, -5.4268129336647135e-18,},
    {0.10379679368164356, 5.47772415726659e-18,},
    {0.11778303565638346, -1.1971685747593677e-18,},
    {0.13157635778871926, 1.1123000879729588e-17,},
    {0.1451820098444979, 8.242418783022475e-18,},
    {0.15860503017663857, 1.1257003872182592e-17,},
    {0.17185025692665923, -6.0224538210113705e-18,},
    {0.184922338494012, 3.0236614153574064e-18,},
    {0.19782574332991987, 1.2821194372980142e-17,},
    {0.21056476910734964, -4.249405314729895e-18,},
    {0.22314355131420976, -9.091270597324799e-18,},
    {0.2355660713127669, -2.3943371495187355e-18,},
    {0.24783616390458127, -1.2432209578702523e-17,},
    {0.25995752443692605, 2.069806938978935e-17,},
    {0.27193371548364176, 7.83319637697442e-19,},
    {0.2837681731306446, -2.032665581126656e-17,},
    {0.2954642128938359, -2.16461086040599e-17,},
    {0.3070250352949119, -1.2319916200101964e-17,},
    {0.3184537311185346, 2.7114779367326236e-17,},
    {0.329753286372468, 2.122020616196946e-18,},
    {0.3409265869705932, 1.7467136443544747e-17,},
    {0.3519764231571782, -1.2953893030191963e-17,},
};

static constexpr int N_RGAM = 23;                     // len(RGAM_COEFFS)
static constexpr int K1K0_ROWS = 6;
static constexpr int K1K0_TERMS = 26;
static constexpr double EULER_GAMMA = 0.5772156649015329;
static constexpr double LN2_HI = 0.6931471803691238;
static constexpr double LN2_LO = 1.9082149292705877e-10;
static constexpr double EPS = 2.220446049250313e-16;  // 2**-52
static constexpr double PI = 3.141592653589793;
static constexpr double HALF_LOG_PI_2 = 0.22579135264472744;  // 0.5 * log(pi / 2)
static constexpr double SQRT_HALF = 0.7071067811865476;
static constexpr double SCALE_BIG = 3.402823669209385e+38;  // 2**128
static constexpr double SCALE_INV = 2.938735877055719e-39;  // 2**-128
static constexpr ls_i64 SCALE_EXP = 128;
static constexpr double X_SWITCH = 1.0;      // ratio: Temme's series for x <= 1, CF2 above
static constexpr double X_SWITCH_LOG = 2.0;  // log K_mu: Temme's series for x <= 2
static constexpr int MAXIT = 1000;           // safety cap; the loops need <= ~60
static constexpr double K1K0_LO = 0.25;
static constexpr double K1K0_HI = 16.0;
static constexpr double NU_MAX = 1.0e5;      // largest |nu| accepted; beyond it: nan
static constexpr int DEBYE_TERMS = 14;
static constexpr double NU_DEBYE = 24.0;  // Debye path for nu >= NU_DEBYE
// S0 = sqrt(1 + z0^2), z0 the zero of eta(z) = sqrt(1 + z^2) - asinh(1/z)
static constexpr double S0 = 1.1996786402577337;
static constexpr double SPLIT = 134217729.0;  // 2**27 + 1, Veltkamp's splitting constant
// Double-double constants of the Debye log K (levyscore/_precompute/bessel_dd_log.py): the
// series of 2 atanh(u) after its first term, the low parts of 0.5 log(pi/2) and S0, and
// K0 = (1 + s0) / z0 = e^{s0} as a double-double.
static constexpr int LOG_K0 = 45;
static constexpr double LOG_C3 = 0.6666666666666666;
static constexpr double LOG_C5 = 0.4;
static constexpr double LOG_C7 = 0.2857142857142857;
static constexpr double LOG_C9 = 0.2222222222222222;
static constexpr double HALF_LOG_PI_2_LO = -6.4622584878775846e-18;
static constexpr double S0_LO = 9.232436427676682e-17;
static constexpr double K0_HI = 3.3190501422372973;
static constexpr double K0_LO = -1.2605005345948428e-16;
static constexpr double X_HUGE = 3.273390607896142e+150;  // 2**500: log K by h = nu eta = x above
static constexpr double X_TINY = 1.1830521861667747e-271;  // 2**-900: x scaled by 2**200 below
static constexpr double TINY_SCALE = 1.6069380442589903e+60;  // 2**200
static constexpr double TINY_EXP = 200.0;

// Numba twin: levyscore._bessel._temme_gammas (gamma_1, gamma_2 of Temme's series).
LS_HD inline void temme_gammas(double mu, double* gam1, double* gam2) {
    double m2 = mu * mu;
    double g1 = 0.0;
    int k = N_RGAM - 2;  // largest odd index (21)
    while (k >= 1) {
        g1 = g1 * m2 + RGAM_COEFFS[k];
        k -= 2;
    }
    double g2 = 0.0;
    k = N_RGAM - 1;  // largest even index (22)
    while (k >= 0) {
        g2 = g2 * m2 + RGAM_COEFFS[k];
        k -= 2;
    }
    *gam1 = -g1;
    *gam2 = g2;
}

// Numba twin: levyscore._bessel._base_temme. Returns log K_mu(x) + x and K_{mu+1}/K_mu.
LS_HD inline void base_temme(double mu, double x, double* lk, double* r) {
    double x2 = 0.5 * x;
    double d = -log(x2);
    double ff, p, q;
    if (mu == 0.0) {
        // fact = fact2 = 1, gamma_1 = -Euler gamma, gamma_2 = 1, e = 0
        ff = d - EULER_GAMMA;
        p = 0.5;
        q = 0.5;
    } else {
        double pimu = PI * mu;
        double fact;
        if (fabs(pimu) < EPS) {
            fact = 1.0;
        } else {
            fact = pimu / sin(pimu);
        }
        double e = mu * d;
        double fact2;
        if (fabs(e) < EPS) {
            fact2 = 1.0;
        } else {
            fact2 = sinh(e) / e;
        }
        double gam1, gam2;
        temme_gammas(mu, &gam1, &gam2);
        double gampl = gam2 - mu * gam1;  // 1 / Gamma(1 + mu)
        double gammi = gam2 + mu * gam1;  // 1 / Gamma(1 - mu)
        ff = fact * (gam1 * cosh(e) + gam2 * fact2 * d);
        double ee = exp(e);
        p = 0.5 * ee / gampl;
        q = 0.5 / (ee * gammi);
    }
    double s0 = ff;
    double c = 1.0;
    double dd = x2 * x2;
    double s1 = p;
    double mu2 = mu * mu;
    int i = 1;
    while (i <= MAXIT) {
        double fi = (double)i;
        ff = (fi * ff + p + q) / (fi * fi - mu2);
        c = c * dd / fi;
        p = p / (fi - mu);
        q = q / (fi + mu);
        double del0 = c * ff;
        s0 = s0 + del0;
        double del1 = c * (p - fi * ff);
        s1 = s1 + del1;
        if (fabs(del0) < EPS * fabs(s0) && fabs(del1) < EPS * fabs(s1)) {
            break;
        }
        i += 1;
    }
    // K_mu = s0, K_{mu+1} = s1 * 2 / x
    *lk = log(s0) + x;
    *r = (s1 / s0) * (2.0 / x);
}

// Numba twin: levyscore._bessel._cf2_ratio (Steed's CF2, h only), x > 1, |mu| <= 1/2.
LS_HD inline double cf2_ratio(double mu, double x) {
    double b = 2.0 * (1.0 + x);
    double d = 1.0 / b;
    double h = d;
    double delh = d;
    double a1 = 0.25 - mu * mu;
    double a = -a1;
    int i = 1;
    while (i <= MAXIT) {
        a = a - 2.0 * (double)i;
        b = b + 2.0;
        d = 1.0 / (b + a * d);
        delh = (b * d - 1.0) * delh;
        h = h + delh;
        if (fabs(delh) < EPS * fabs(h)) {
            break;
        }
        i += 1;
    }
    return (mu + x + 0.5 - a1 * h) / x;
}

// Numba twin: levyscore._bessel._base_cf2 (Steed's CF2 with the sum S), x > 1.
LS_HD inline void base_cf2(double mu, double x, double* lk, double* r) {
    double b = 2.0 * (1.0 + x);
    double d = 1.0 / b;
    double h = d;
    double delh = d;
    double q1 = 0.0;
    double q2 = 1.0;
    double a1 = 0.25 - mu * mu;
    double q = a1;
    double c = a1;
    double a = -a1;
    double s = 1.0 + q * delh;
    bool hdone = false;
    int i = 1;
    while (i <= MAXIT) {
        double fi = (double)i;
        a = a - 2.0 * fi;
        c = -a * c / (fi + 1.0);
        double qnew = (q1 - b * q2) / a;
        q1 = q2;
        q2 = qnew;
        q = q + c * qnew;
        b = b + 2.0;
        d = 1.0 / (b + a * d);
        delh = (b * d - 1.0) * delh;
        if (!hdone) {
            // h is frozen once converged, exactly as in cf2_ratio
            h = h + delh;
            hdone = fabs(delh) < EPS * fabs(h);
        }
        double dels = q * delh;
        s = s + dels;
        if (hdone && fabs(dels) < EPS * fabs(s)) {
            break;
        }
        i += 1;
    }
    // e^x K_mu = sqrt(pi / (2x)) / s ; K_{mu+1} / K_mu = (mu + x + 1/2 - h) / x
    *lk = HALF_LOG_PI_2 - 0.5 * log(x) - log(s);
    *r = (mu + x + 0.5 - a1 * h) / x;
}

// Numba twin: levyscore._bessel._k1k0_chebyshev (K_1/K_0 on [1/4, 16), Clenshaw).
LS_HD inline double k1k0_chebyshev(double x) {
    ls_i64 k = to_int(floor(log2(x / K1K0_LO)));
    if (k > K1K0_ROWS - 1) {
        k = K1K0_ROWS - 1;
    }
    double a = K1K0_LO * ipow(2.0, k);
    double b = 2.0 * a;
    double t = (2.0 * x - a - b) / (b - a);
    double b1 = 0.0;
    double b2 = 0.0;
    int j = K1K0_TERMS - 1;
    while (j >= 1) {
        double tmp = 2.0 * t * b1 - b2 + K1K0_CHEB[k][j];
        b2 = b1;
        b1 = tmp;
        j -= 1;
    }
    return t * b1 - b2 + K1K0_CHEB[k][0];
}

// Numba twin: levyscore._bessel._base: (log K_mu(x) + x, K_{mu+1}/K_mu), mu in [-1/2, 1/2).
LS_HD inline void base(double mu, double x, double* lk, double* r) {
    if (mu == -0.5) {
        *lk = HALF_LOG_PI_2 - 0.5 * log(x);
        *r = 1.0;
        return;
    }
    if (x <= X_SWITCH) {
        base_temme(mu, x, lk, r);
    } else if (x <= X_SWITCH_LOG) {
        double r_unused;
        base_temme(mu, x, lk, &r_unused);
        *r = cf2_ratio(mu, x);
    } else {
        base_cf2(mu, x, lk, r);
    }
    if (mu == 0.0 && K1K0_LO <= x && x < K1K0_HI) {
        *r = k1k0_chebyshev(x);  // same value as base_ratio, bit for bit
    }
}

// Numba twin: levyscore._bessel._base_ratio (same value as base's ratio).
LS_HD inline double base_ratio(double mu, double x) {
    if (mu == -0.5) {
        return 1.0;
    }
    if (mu == 0.0 && K1K0_LO <= x && x < K1K0_HI) {
        return k1k0_chebyshev(x);
    }
    if (x <= X_SWITCH) {
        double lk, r;
        base_temme(mu, x, &lk, &r);
        return r;
    }
    return cf2_ratio(mu, x);
}

// Numba twin: levyscore._bessel._debye_sums: U - 1 and V - 1 of the Debye expansion (DLMF
// 10.41.4), nu >= NU_DEBYE, h = hypot(nu, x); Horner in w = -1/h over Horner sums in t = p^2.
LS_HD inline void debye_sums(double nu, double h, double* su_out, double* sv_out) {
    int n = 1;
    while (n < DEBYE_TERMS && nu < DEBYE_NU_OMIT[n]) {
        n += 1;
    }
    double p = nu / h;
    double t = p * p;
    double w = -1.0 / h;
    double su = 0.0;
    double sv = 0.0;
    int k = n - 1;
    while (k >= 1) {
        double pu = 0.0;
        double pv = 0.0;
        int j = k;
        while (j >= 0) {
            pu = pu * t + DEBYE_U[k][j];
            pv = pv * t + DEBYE_V[k][j];
            j -= 1;
        }
        su = (su + pu) * w;
        sv = (sv + pv) * w;
        k -= 1;
    }
    *su_out = su;
    *sv_out = sv;
}

// Numba twin: levyscore._bessel._dd_two_sum: Knuth's two-sum, s + e = a + b exactly.
LS_HD inline void dd_two_sum(double a, double b, double* s_out, double* e_out) {
    double s = a + b;
    double bb = s - a;
    *e_out = (a - (s - bb)) + (b - bb);
    *s_out = s;
}

// Numba twin: levyscore._bessel._dd_fast_sum: Dekker's fast two-sum, |a| >= |b| (or a = 0).
LS_HD inline void dd_fast_sum(double a, double b, double* s_out, double* e_out) {
    double s = a + b;
    *e_out = b - (s - a);
    *s_out = s;
}

// Numba twin: levyscore._bessel._dd_two_prod: Dekker's product, Veltkamp's split (no fma):
// p + e = a b exactly.
LS_HD inline void dd_two_prod(double a, double b, double* p_out, double* e_out) {
    double p = a * b;
    double c = SPLIT * a;
    double ah = c - (c - a);
    double al = a - ah;
    c = SPLIT * b;
    double bh = c - (c - b);
    double bl = b - bh;
    *e_out = (((ah * bh - p) + ah * bl) + al * bh) + al * bl;
    *p_out = p;
}

// Numba twin: levyscore._bessel._dd_add: (ah + al) + (bh + bl) in double-double ("sloppy").
LS_HD inline void dd_add(double ah, double al, double bh, double bl, double* h_out,
                         double* l_out) {
    double s, e;
    dd_two_sum(ah, bh, &s, &e);
    e = e + (al + bl);
    dd_fast_sum(s, e, h_out, l_out);
}

// Numba twin: levyscore._bessel._dd_div: (ah + al) / (bh + bl) in double-double.
LS_HD inline void dd_div(double ah, double al, double bh, double bl, double* h_out,
                         double* l_out) {
    double inv = 1.0 / bh;
    double q = ah * inv;
    double p, e;
    dd_two_prod(q, bh, &p, &e);
    double r = ((((ah - p) - e) + al) - q * bl) * inv;  // ah - p exact (Sterbenz)
    dd_fast_sum(q, r, h_out, l_out);
}

// Numba twin: levyscore._bessel._dd_log: log(ah + al) in double-double, ah > 0 normal:
// 2^e m, m in [sqrt(1/2), sqrt(2)), c = k/64 (LOG_TABLE), 2 atanh((m - c) / (m + c)).
LS_HD inline void dd_log(double ah, double al, double* h_out, double* l_out) {
    int ex;
    double fm = frexp(ah, &ex);
    if (fm < SQRT_HALF) {
        fm = 2.0 * fm;
        ex -= 1;
    }
    double ml = al * (fm / ah);  // fm / ah = 2^-e exactly
    ls_i64 k = to_int(fm * 64.0 + 0.5);
    double c = (double)k / 64.0;
    double nh, nl, dh, dl, uh, ul;
    dd_two_sum(fm - c, ml, &nh, &nl);  // fm - c exact (Sterbenz)
    dd_add(fm, ml, c, 0.0, &dh, &dl);
    dd_div(nh, nl, dh, dl, &uh, &ul);
    double u2 = uh * uh;
    double tail = uh * u2 * (LOG_C3 + u2 * (LOG_C5 + u2 * (LOG_C7 + u2 * LOG_C9)));
    ls_i64 j = k - LOG_K0;
    double lh, ll;
    dd_add(LOG_TABLE[j][0], LOG_TABLE[j][1], 2.0 * uh, 2.0 * ul + tail, &lh, &ll);
    double fe = (double)ex;
    dd_add(fe * LN2_HI, fe * LN2_LO, lh, ll, h_out, l_out);  // fe * LN2_HI exact
}

// Numba twin: levyscore._bessel._debye_nu_eta: nu * eta(x / nu) as a double-double,
// (h - nu s0) + nu log(K0 x / (nu + h)), hh + hl = hypot(nu, x), x <= X_HUGE.
LS_HD inline void debye_nu_eta(double nu, double x, double hh, double hl, double* h_out,
                               double* l_out) {
    double sh, sl, rh, rl;
    dd_two_prod(nu, S0, &sh, &sl);
    dd_add(hh, hl, -sh, -(sl + nu * S0_LO), &rh, &rl);  // nu r = h - nu s0
    double xs = x;
    if (x < X_TINY) {
        xs = x * TINY_SCALE;
    }
    double ph, pl, bh, bl, wh, wl, lh, ll;
    dd_two_prod(xs, K0_HI, &ph, &pl);
    dd_add(nu, 0.0, hh, hl, &bh, &bl);  // nu + h
    dd_div(ph, pl + xs * K0_LO, bh, bl, &wh, &wl);  // e^{asinh(q)}
    dd_log(wh, wl, &lh, &ll);  // asinh(q)
    if (x < X_TINY) {
        dd_add(lh, ll, -TINY_EXP * LN2_HI, -TINY_EXP * LN2_LO, &lh, &ll);
    }
    double mh, ml;
    dd_two_prod(nu, lh, &mh, &ml);
    dd_add(rh, rl, mh, ml + nu * ll, h_out, l_out);
}

// Numba twin: levyscore._bessel._debye_log_k: log K_nu(x) by Debye, nu >= NU_DEBYE, h =
// hypot(nu, x), su = U - 1; the large terms in double-double, rounded once.
LS_HD inline double debye_log_k(double nu, double x, double h, double su) {
    if (x > X_HUGE) {  // outside the verified domain: h = x, nu eta = x
        return ((HALF_LOG_PI_2 - 0.5 * log(x)) - x) + log1p(su);
    }
    double p1, e1, p2, e2, p3, e3, sh, sl;
    dd_two_prod(nu, nu, &p1, &e1);
    dd_two_prod(x, x, &p2, &e2);
    dd_two_prod(h, h, &p3, &e3);
    dd_two_sum(p1, p2, &sh, &sl);
    double hl = ((sh - p3) + (((sl + e1) + e2) - e3)) / (2.0 * h);  // sh - p3 exact
    double eh, el, gh, gl, th, tl;
    debye_nu_eta(nu, x, h, hl, &eh, &el);
    dd_log(h, hl, &gh, &gl);
    dd_add(-eh, -el, -0.5 * gh, -0.5 * gl, &th, &tl);
    dd_add(th, tl, HALF_LOG_PI_2, HALF_LOG_PI_2_LO + log1p(su), &th, &tl);
    return th;
}

// Numba twin: levyscore._bessel.bessel_k_ratio: K_{nu+1}(x) / K_nu(x), 0 <= nu <= NU_MAX;
// nan for invalid input, 1 for x = +inf.
LS_HD inline double bessel_k_ratio(double nu, double x) {
    if (!(x > 0.0) || !(nu >= 0.0) || nu > NU_MAX) {
        return ls_nan();
    }
    if (x == ls_inf()) {
        return 1.0;
    }
    if (nu >= NU_DEBYE) {
        double h = hypot(nu, x);
        double su, sv;
        debye_sums(nu, h, &su, &sv);
        return ((nu + h) + h * ((sv - su) / (1.0 + su))) / x;
    }
    double fn = floor(nu + 0.5);
    double mu = nu - fn;
    ls_i64 n = to_int(fn);
    double r = base_ratio(mu, x);
    ls_i64 k = 1;
    while (k <= n) {
        r = 1.0 / r + 2.0 * (mu + (double)k) / x;
        k += 1;
    }
    return r;
}

// Numba twin: levyscore._bessel.log_bessel_k_and_ratio: log K_nu(x) and K_{nu+1}/K_nu in one
// pass; (nan, nan) for invalid input, (-inf, 1) for x = +inf.
LS_HD inline void log_bessel_k_and_ratio(double nu, double x, double* logk_out,
                                         double* ratio_out) {
    if (!(x > 0.0) || !(nu >= 0.0) || nu > NU_MAX) {
        *logk_out = ls_nan();
        *ratio_out = ls_nan();
        return;
    }
    if (x == ls_inf()) {
        *logk_out = -ls_inf();
        *ratio_out = 1.0;
        return;
    }
    if (nu >= NU_DEBYE) {
        double h = hypot(nu, x);
        double su, sv;
        debye_sums(nu, h, &su, &sv);
        *ratio_out = ((nu + h) + h * ((sv - su) / (1.0 + su))) / x;  // as bessel_k_ratio
        *logk_out = debye_log_k(nu, x, h, su);
        return;
    }
    double fn = floor(nu + 0.5);
    double mu = nu - fn;
    ls_i64 n = to_int(fn);
    double lk, r;
    base(mu, x, &lk, &r);  // lk = log K_mu(x) + x
    double p = 1.0;
    ls_i64 escale = 0;
    ls_i64 k = 1;
    while (k <= n) {
        if (r > SCALE_BIG) {  // x < ~1e-37: scale first, so that p * r stays finite
            p = p * SCALE_INV;  // exact (p >= 1), and the same p as scaling after
            escale += SCALE_EXP;
        }
        p = p * r;
        while (p > SCALE_BIG && p < ls_inf()) {  // exact; inf only if 2v/x overflows
            p = p * SCALE_INV;
            escale += SCALE_EXP;
        }
        r = 1.0 / r + 2.0 * (mu + (double)k) / x;
        k += 1;
    }
    // p * 2**escale = K_nu / K_mu;  p = m 2**ep, m in [sqrt(1/2), sqrt(2))
    int ep;
    double m = frexp(p, &ep);
    if (m < SQRT_HALF) {
        m = m * 2.0;
        ep -= 1;
    }
    double big = (double)(escale + (ls_i64)ep);
    *logk_out = ((big * LN2_HI - x) + lk) + (log(m) + big * LN2_LO);
    *ratio_out = r;
}

// Numba twin: levyscore._bessel.log_bessel_k: log K_nu(x) for any real |nu| <= NU_MAX.
LS_HD inline double log_bessel_k(double nu, double x) {
    double anu = fabs(nu);
    double logk, r;
    log_bessel_k_and_ratio(anu, x, &logk, &r);
    return logk;
}

}  // namespace levyscore

#endif  // LEVYSCORE_BESSEL_CUH
