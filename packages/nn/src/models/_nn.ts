/** The nn pieces the torchvision models use, imported from their files (not the package index, to avoid an import cycle). */
export { Module } from '../module.ts';
export { Sequential } from '../containers.ts';
export { Conv2d } from '../layers/conv.ts';
export { BatchNorm2d } from '../layers/batchnorm.ts';
export { ReLU } from '../layers/activation.ts';
export { MaxPool2d, AdaptiveAvgPool2d } from '../layers/pooling.ts';
export { Linear } from '../layers/linear.ts';
export { Dropout } from '../layers/dropout.ts';
export * as init from '../init.ts';
